package travel_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/moov-io/iso20022/pkg/document"
	"github.com/moov-io/iso20022/pkg/pain_v10"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/travel"
	"github.com/tia-platform/tia/services/travel/internal/domain"
)

// waitRun polls until the run completes.
func waitRun(t *testing.T, e *env, name string) *travelv1.PaymentRun {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		run, err := e.svc.GetPaymentRun(as(migrationsverket), &travelv1.GetPaymentRunRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if run.GetState() == travelv1.PaymentRunState_PAYMENT_RUN_STATE_SUCCEEDED {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still %v", name, run.GetState())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPaymentRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		e := newEnv(t, dsn, travel.Options{PaymentBatch: 7, PaymentDir: dir})
		var want int64
		for i := range 20 {
			c := e.submit(t, migrationsverket, newClaim(func(c *travelv1.Claim) {
				c.DossierNumber = fmt.Sprintf("12-%06d", i)
				c.CostOre = int64(1000 + i*37)
			}))
			if c.GetState() != travelv1.ClaimState_CLAIM_STATE_APPROVED {
				t.Fatalf("claim %d: %v", i, c.GetReasons())
			}
			want += c.GetCostOre()
		}
		inReview := e.submit(t, migrationsverket, newClaim(func(c *travelv1.Claim) { c.DistanceKm = 1; c.DossierNumber = "55-555555" }))

		e.clock.add(2 * 24 * time.Hour)
		run, err := e.svc.CreatePaymentRun(as(migrationsverket), &travelv1.CreatePaymentRunRequest{RequestId: "run-1"})
		if err != nil {
			t.Fatal(err)
		}
		done := waitRun(t, e, run.GetName())
		if done.GetClaimCount() != 20 || done.GetTotalOre() != want {
			t.Fatalf("run paid %d claims, %d öre; want 20, %d", done.GetClaimCount(), done.GetTotalOre(), want)
		}
		// The same request returns the same run; a new run pays nothing again.
		again, err := e.svc.CreatePaymentRun(as(migrationsverket), &travelv1.CreatePaymentRunRequest{RequestId: "run-1"})
		if err != nil || again.GetName() != run.GetName() {
			t.Fatalf("retried run = %v, %v", again, err)
		}
		second, err := e.svc.CreatePaymentRun(as(migrationsverket), &travelv1.CreatePaymentRunRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if done2 := waitRun(t, e, second.GetName()); done2.GetClaimCount() != 0 {
			t.Fatalf("second run paid %d", done2.GetClaimCount())
		}
		// The claim in review was not paid; approve it and it is, once.
		if _, err := e.svc.ApproveClaim(as(migrationsverket), &travelv1.ApproveClaimRequest{Name: inReview.GetName(), Reason: "Kontrollerat."}); err != nil {
			t.Fatal(err)
		}
		third, _ := e.svc.CreatePaymentRun(as(migrationsverket), &travelv1.CreatePaymentRunRequest{})
		if done3 := waitRun(t, e, third.GetName()); done3.GetClaimCount() != 1 {
			t.Fatalf("third run paid %d", done3.GetClaimCount())
		}
		payments := e.count(t, "SELECT COUNT(*) FROM payments")
		paid := e.count(t, "SELECT COUNT(*) FROM claims WHERE state = 'PAID'")
		events := e.count(t, "SELECT COUNT(*) FROM outbox WHERE subject = ?", travel.SubjectClaimPaid)
		if payments != 21 || paid != 21 || events != 21 {
			t.Fatalf("payments %d, paid claims %d, ClaimPaid events %d; want 21 each", payments, paid, events)
		}
		mine, err := e.svc.GetClaim(as(asylumSeeker), &travelv1.GetClaimRequest{Name: inReview.GetName()})
		if err == nil {
			t.Fatalf("another's claim visible: %v", mine)
		}

		// The payment file: served, written to the folder, and valid pain.001.
		file, err := e.svc.GetPaymentFile(as(migrationsverket), &travelv1.GetPaymentFileRequest{Name: run.GetName() + "/file"})
		if err != nil {
			t.Fatal(err)
		}
		written, err := os.ReadFile(filepath.Join(dir, "pain001-"+done.GetMessageId()+".xml"))
		if err != nil || string(written) != string(file.GetContent()) {
			t.Fatalf("written file differs from the served one (%v)", err)
		}
		checkPain001(t, file.GetContent(), 20, want)
		if _, err := e.svc.GetPaymentFile(as(countyBoard), &travelv1.GetPaymentFileRequest{Name: run.GetName() + "/file"}); err == nil {
			t.Fatal("a county board reads the payment file")
		}
	})
}

// checkPain001 checks doc against the ISO 20022 message definition: it is
// parsed and validated with moov-io/iso20022 (types, patterns, lengths, code
// lists of pain.001.001.10), checked against the XSD with xmllint when it
// is installed, and its totals are compared.
func checkPain001(t *testing.T, doc []byte, n int, totalOre int64) {
	t.Helper()
	parsed, err := document.ParseIso20022Document(doc)
	if err != nil {
		t.Fatalf("parse pain.001: %v", err)
	}
	msg, ok := parsed.InspectMessage().(*pain_v10.CustomerCreditTransferInitiationV10)
	if !ok {
		t.Fatalf("message is %T, want pain.001.001.10", parsed.InspectMessage())
	}
	// moov-io/iso20022 validates both branches of every choice element, so
	// a whole-document Validate fails on any document that (correctly)
	// fills one branch only. Each element outside such choices is
	// validated instead: types, patterns, lengths and code lists.
	pi := msg.PmtInf
	if len(pi) != 1 {
		t.Fatalf("%d payment information blocks, want 1", len(pi))
	}
	for what, v := range map[string]interface{ Validate() error }{
		"GrpHdr": msg.GrpHdr, "PmtInfId": pi[0].PmtInfId, "PmtMtd": pi[0].PmtMtd, "Dbtr": pi[0].Dbtr,
		"DbtrAcct/Id/IBAN": pi[0].DbtrAcct.Id.IBAN, "DbtrAgt": pi[0].DbtrAgt, "NbOfTxs": *pi[0].NbOfTxs,
	} {
		if err := v.Validate(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	if got := string(msg.GrpHdr.NbOfTxs); got != fmt.Sprint(n) || len(pi[0].CdtTrfTxInf) != n {
		t.Fatalf("NbOfTxs %s, %d transactions; want %d", got, len(pi[0].CdtTrfTxInf), n)
	}
	var sum float64
	seen := map[string]bool{}
	for _, tx := range pi[0].CdtTrfTxInf {
		for what, v := range map[string]interface{ Validate() error }{
			"PmtId": tx.PmtId, "Cdtr/Id/PrvtId": tx.Cdtr.Id.PrvtId, "RmtInf": tx.RmtInf,
		} {
			if err := v.Validate(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		if err := tx.Amt.InstdAmt.Validate(); err != nil || tx.Amt.InstdAmt.Ccy != "SEK" {
			t.Fatalf("amount %v: %v", tx.Amt.InstdAmt, err)
		}
		if seen[string(tx.PmtId.EndToEndId)] {
			t.Fatalf("claim %s paid twice in the file", tx.PmtId.EndToEndId)
		}
		seen[string(tx.PmtId.EndToEndId)] = true
		sum += tx.Amt.InstdAmt.Value
	}
	if fmt.Sprintf("%.2f", sum) != domain.Kronor(totalOre) || fmt.Sprintf("%.2f", msg.GrpHdr.CtrlSum) != domain.Kronor(totalOre) {
		t.Fatalf("sum %.2f, CtrlSum %.2f; want %s", sum, msg.GrpHdr.CtrlSum, domain.Kronor(totalOre))
	}
	if err := xml.Unmarshal(doc, new(struct{})); err != nil {
		t.Fatal(err)
	}
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		xsd := moovXSD(t)
		f := filepath.Join(t.TempDir(), "pain001.xml")
		if err := os.WriteFile(f, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(xmllint, "--noout", "--schema", xsd, f).CombinedOutput(); err != nil {
			t.Fatalf("xmllint against %s: %v\n%s", xsd, err, out)
		}
	} else {
		t.Log("xmllint not installed: the XSD check is left to moov-io/iso20022's validation")
	}
}

// moovXSD is the pain.001.001.10 schema shipped in the moov-io/iso20022 module.
func moovXSD(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/moov-io/iso20022").Output()
	if err != nil {
		t.Fatalf("locate moov-io/iso20022: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "docs", "specifications", "payments_initiation_11", "pain.001.001.10_1.xsd")
}

func TestParticipationEnded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, travel.Options{})
		before := e.submit(t, asylumSeeker, newClaim(func(c *travelv1.Claim) { c.TripDate = "2026-03-02" }))
		after := e.submit(t, asylumSeeker, newClaim(func(c *travelv1.Claim) { c.TripDate = "2026-03-10" }))
		ev := &activityv1.ParticipationEnded{Certificate: certName, Activity: activityName, DossierNumber: "12-345678",
			Outcome: activityv1.Participation_PARTICIPATION_DROPPED_OUT, EndDate: "2026-03-05", KommunCode: "0180", LanCode: "01"}
		apply(t, e, ev)
		apply(t, e, ev) // redelivered: harmless
		got, _ := e.svc.GetClaim(as(asylumSeeker), &travelv1.GetClaimRequest{Name: after.GetName()})
		if got.GetState() != travelv1.ClaimState_CLAIM_STATE_IN_REVIEW || !slices.Equal(got.GetReasons(), []string{"PARTICIPATION_ENDED"}) {
			t.Fatalf("claim after the end: %v %v", got.GetState(), got.GetReasons())
		}
		kept, _ := e.svc.GetClaim(as(asylumSeeker), &travelv1.GetClaimRequest{Name: before.GetName()})
		if kept.GetState() != travelv1.ClaimState_CLAIM_STATE_APPROVED {
			t.Fatalf("claim before the end: %v", kept.GetState())
		}
		later := e.submit(t, asylumSeeker, newClaim(func(c *travelv1.Claim) { c.TripDate = "2026-03-11" }))
		if !slices.Equal(later.GetReasons(), []string{"PARTICIPATION_ENDED"}) {
			t.Fatalf("new claim after the end: %v", later.GetReasons())
		}
		usage, err := e.svc.GetUsageReport(as(migrationsverket), &travelv1.GetUsageReportRequest{})
		if err != nil || len(usage.GetRows()) != 1 || usage.GetRows()[0].GetAfterDropOut() != 2 {
			t.Fatalf("usage report %v, %v", usage, err)
		}
	})
}

func apply(t *testing.T, e *env, m *activityv1.ParticipationEnded) {
	t.Helper()
	payload, _ := proto.Marshal(m)
	sub := e.srv.Subscriptions()[0]
	err := dbInTx(e, func(tx *sqlx.Tx) error {
		return sub.Handler(context.Background(), tx, events.Event{ID: "ev-1", Subject: "tia.activity.ParticipationEnded",
			Type: string(m.ProtoReflect().Descriptor().FullName()), Payload: payload})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func dbInTx(e *env, fn func(*sqlx.Tx) error) error {
	tx, err := e.db.Beginx()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func TestReports(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), travel.Options{})
	e.clock.t = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if _, err := e.svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{Route: &travelv1.Route{
		FromKommunCode: "0180", ToKommunCode: "0186", ValidFrom: "2026-01-01", ValidTo: "2026-12-31"}}); err != nil {
		t.Fatal(err)
	}
	// Twelve trips in one week by one person (unusual), one far too dear.
	for i := range 12 {
		e.submit(t, migrationsverket, newClaim(func(c *travelv1.Claim) {
			c.DossierNumber = "33-333333"
			c.TripDate = fmt.Sprintf("2026-02-%02d", 23+i/2)
			c.FromKommunCode, c.ToKommunCode = "0186", "0180"
			if i%2 == 1 {
				c.FromKommunCode, c.ToKommunCode = "0180", "0186"
			}
			c.CostOre = 4000
			if i == 11 {
				c.CostOre = 40000
			}
		}))
	}
	e.clock.add(10 * 24 * time.Hour)
	run, _ := e.svc.CreatePaymentRun(as(migrationsverket), &travelv1.CreatePaymentRunRequest{})
	waitRun(t, e, run.GetName())
	// Submitted now, unpaid: at risk once 11 days have passed.
	pending := e.submit(t, migrationsverket, newClaim(func(c *travelv1.Claim) { c.DossierNumber = "44-444444"; c.DistanceKm = 1; c.TripDate = "2026-03-10" }))
	e.clock.add(12 * 24 * time.Hour)
	lead, err := e.svc.GetLeadTimeReport(as(countyBoardStockholm), &travelv1.GetLeadTimeReportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if lead.GetTargetDays() != 14 || len(lead.GetRows()) != 1 || lead.GetRows()[0].GetPaidClaims() != 12 ||
		lead.GetRows()[0].GetP50Days() != 10 || lead.GetRows()[0].GetMonth() != "2026-03" || lead.GetRows()[0].GetWithinTarget() != 12 {
		t.Fatalf("lead times %v", lead.GetRows())
	}
	if len(lead.GetAtRisk()) != 1 || lead.GetAtRisk()[0].GetClaim() != pending.GetName() || lead.GetAtRisk()[0].GetDaysLeft() != 2 {
		t.Fatalf("at risk %v", lead.GetAtRisk())
	}
	usage, err := e.svc.GetUsageReport(as(migrationsverket), &travelv1.GetUsageReportRequest{LanCode: "01"})
	if err != nil {
		t.Fatal(err)
	}
	row := usage.GetRows()[0]
	if row.GetFrequent() != 12 || row.GetCostOutlier() != 1 || row.GetClaims() != 13 {
		t.Fatalf("usage %v", row)
	}
	if _, err := e.svc.GetUsageReport(as(countyBoard), &travelv1.GetUsageReportRequest{LanCode: "01"}); err == nil {
		t.Fatal("a county board reads another län's report")
	}
}

// chunks is the server side of a DownloadPaymentFile stream: it keeps what
// is sent.
type chunks struct {
	grpc.ServerStream
	ctx  context.Context
	sent []*travelv1.PaymentFileChunk
}

func (c *chunks) Context() context.Context { return c.ctx }
func (c *chunks) Send(m *travelv1.PaymentFileChunk) error {
	c.sent = append(c.sent, m)
	return nil
}

// TestPaymentFileDownload: a payment file larger than a piece streams in
// pieces of at most the piece size (4 KiB here, 64 KiB in service) that make up the same file GetPaymentFile
// returns whole; the read of every payee's data is in the audit trail; a
// county board, or a run not yet finished, gets nothing.
func TestPaymentFileDownload(t *testing.T) {
	defer travel.SetChunkSize(4 << 10)()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, travel.Options{PaymentBatch: 50})
		const n = 60
		for i := range n {
			e.submit(t, migrationsverket, newClaim(func(c *travelv1.Claim) {
				c.DossierNumber = fmt.Sprintf("13-%06d", i)
				c.CostOre = int64(2000 + i)
			}))
		}
		run, err := e.svc.CreatePaymentRun(as(migrationsverket), &travelv1.CreatePaymentRunRequest{})
		if err != nil {
			t.Fatal(err)
		}
		done := waitRun(t, e, run.GetName())
		whole, err := e.svc.GetPaymentFile(as(migrationsverket), &travelv1.GetPaymentFileRequest{Name: run.GetName() + "/file"})
		if err != nil {
			t.Fatal(err)
		}
		before := e.count(t, "SELECT COUNT(*) FROM audit_log")

		s := &chunks{ctx: as(migrationsverket)}
		if err := e.srv.DownloadPaymentFile(&travelv1.DownloadPaymentFileRequest{Name: run.GetName() + "/file"}, s); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for _, c := range s.sent {
			if len(c.GetData()) == 0 || len(c.GetData()) > 4<<10 || c.GetContentType() != "application/xml" {
				t.Fatalf("piece of %d bytes, %q", len(c.GetData()), c.GetContentType())
			}
			got = append(got, c.GetData()...)
		}
		if len(s.sent) < 2 || string(got) != string(whole.GetContent()) {
			t.Fatalf("%d pieces, %d bytes; the whole file has %d", len(s.sent), len(got), len(whole.GetContent()))
		}
		checkPain001(t, got, n, done.GetTotalOre())
		after := e.count(t, "SELECT COUNT(*) FROM audit_log")
		if after-before != n {
			t.Fatalf("the download added %d audit entries, want one per payee (%d)", after-before, n)
		}

		table := apierr.Table{Domain: "travel.tia", Rules: travel.Errors}
		code := func(err error) codes.Code { return status.Code(table.Status(context.Background(), err)) }
		denied := &chunks{ctx: as(countyBoardStockholm)}
		if err := e.srv.DownloadPaymentFile(&travelv1.DownloadPaymentFileRequest{Name: run.GetName() + "/file"}, denied); code(err) != codes.PermissionDenied || len(denied.sent) != 0 {
			t.Fatalf("county board: %v, %d pieces", err, len(denied.sent))
		}
		missing := &chunks{ctx: as(migrationsverket)}
		if err := e.srv.DownloadPaymentFile(&travelv1.DownloadPaymentFileRequest{Name: "paymentRuns/nope/file"}, missing); code(err) != codes.NotFound || len(missing.sent) != 0 {
			t.Fatalf("unknown run: %v, %d pieces", err, len(missing.sent))
		}
	})
}
