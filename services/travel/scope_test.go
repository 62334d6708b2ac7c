package travel_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	auditv1 "github.com/tia-platform/tia/proto/gen/tia/audit/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/travel"
)

// TestConsultationAddressees: only the parties a consultation addresses may
// respond — the county boards of the län concerned, registered organisers
// with activities in the kommuner concerned, and organisers invited — and a
// caller who may not gets 403 before its response is validated.
func TestConsultationAddressees(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), travel.Options{})
	e.reg.active["8020011111"] = []string{"1280"} // registered, active in Malmö only
	c, err := e.svc.CreateConsultation(as(migrationsverket), &travelv1.CreateConsultationRequest{Consultation: &travelv1.Consultation{
		Proposals: []*travelv1.Route{proposal("2582", "2580")}, Deadline: "2026-03-31",
		InvitedOrganisers: []string{"organisers/8020022222"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	respond := func(p auth.Principal, stance travelv1.Stance) error {
		_, err := e.svc.CreateConsultationResponse(as(p), &travelv1.CreateConsultationResponseRequest{
			Parent: c.GetName(), Response: &travelv1.ConsultationResponse{Stance: stance}})
		return err
	}
	org := func(n string) auth.Principal {
		return auth.Principal{Subject: "org-" + n, Role: auth.RoleOrganiser, Org: n}
	}
	for _, tt := range []struct {
		name   string
		p      auth.Principal
		stance travelv1.Stance
		want   codes.Code
	}{
		{"unregistered organiser", org("8020099999"), travelv1.Stance_STANCE_SUPPORT, codes.PermissionDenied},
		{"organiser active elsewhere", org("8020011111"), travelv1.Stance_STANCE_SUPPORT, codes.PermissionDenied},
		{"organiser without organisation", auth.Principal{Subject: "x", Role: auth.RoleOrganiser}, travelv1.Stance_STANCE_SUPPORT, codes.PermissionDenied},
		{"unaddressed, invalid input: 403 not 400", org("8020099999"), travelv1.Stance_STANCE_UNSPECIFIED, codes.PermissionDenied},
		{"other län, invalid input: 403 not 400", countyBoardStockholm, travelv1.Stance_STANCE_UNSPECIFIED, codes.PermissionDenied},
		{"organiser active in a kommun concerned", org("8020038884"), travelv1.Stance_STANCE_SUPPORT, codes.OK},
		{"invited organiser", org("8020022222"), travelv1.Stance_STANCE_OBJECT, codes.OK},
		{"addressed, invalid input", org("8020022222"), travelv1.Stance_STANCE_UNSPECIFIED, codes.InvalidArgument},
		{"county board concerned", countyBoard, travelv1.Stance_STANCE_SUPPORT, codes.OK},
	} {
		if err := respond(tt.p, tt.stance); status.Code(err) != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	got, err := e.svc.GetConsultation(as(countyBoard), &travelv1.GetConsultationRequest{Name: c.GetName()})
	if err != nil || len(got.GetResponses()) != 3 || !slices.Equal(got.GetInvitedOrganisers(), []string{"organisers/8020022222"}) {
		t.Fatalf("consultation %v, %v", got, err)
	}
	// The registry cannot be asked: 503, not a guess either way.
	e.reg.set(status.Error(codes.Unavailable, "down"))
	delete(e.reg.active, "8020038884")
	e.reg.active["8020033333"] = []string{"2580"}
	e.reg.activeErr = status.Error(codes.Unavailable, "down")
	if err := respond(org("8020033333"), travelv1.Stance_STANCE_SUPPORT); status.Code(err) != codes.Unavailable {
		t.Fatalf("registry down: %v", err)
	}
}

// TestRequestIDs: every create and state-changing method applied once per
// request id; a repeat returns the first result.
func TestRequestIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, travel.Options{})
		route := &travelv1.Route{FromKommunCode: "0184", ToKommunCode: "0180", ValidFrom: "2026-01-01", ValidTo: "2026-12-31", Reason: "Direkt."}
		r1, err := e.svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{Route: route, RequestId: "route-1"})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := e.svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{Route: route, RequestId: "route-1"})
		if err != nil || r2.GetName() != r1.GetName() {
			t.Fatalf("repeated create = %v, %v; want %s", r2, err, r1.GetName())
		}
		// The repeat of a revocation returns its first result, not "already revoked".
		revoke := &travelv1.RevokeRouteRequest{Name: r1.GetName(), RevokedFrom: "2026-06-01", RequestId: "revoke-1"}
		v1, err := e.svc.RevokeRoute(as(migrationsverket), revoke)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := e.svc.RevokeRoute(as(migrationsverket), revoke)
		if err != nil || v2.GetValidTo() != v1.GetValidTo() {
			t.Fatalf("repeated revoke = %v, %v", v2, err)
		}
		c := &travelv1.Consultation{Proposals: []*travelv1.Route{proposal("2582", "2580")}, Deadline: "2026-03-31"}
		c1, err := e.svc.CreateConsultation(as(migrationsverket), &travelv1.CreateConsultationRequest{Consultation: c, RequestId: "c-1"})
		if err != nil {
			t.Fatal(err)
		}
		c2, err := e.svc.CreateConsultation(as(migrationsverket), &travelv1.CreateConsultationRequest{Consultation: c, RequestId: "c-1"})
		if err != nil || c2.GetName() != c1.GetName() {
			t.Fatalf("repeated consultation = %v, %v", c2, err)
		}
		resp := &travelv1.CreateConsultationResponseRequest{Parent: c1.GetName(), RequestId: "resp-1",
			Response: &travelv1.ConsultationResponse{Stance: travelv1.Stance_STANCE_SUPPORT}}
		a1, err := e.svc.CreateConsultationResponse(as(countyBoard), resp)
		if err != nil {
			t.Fatal(err)
		}
		if a2, err := e.svc.CreateConsultationResponse(as(countyBoard), resp); err != nil || a2.GetName() != a1.GetName() {
			t.Fatalf("repeated response = %v, %v", a2, err)
		}
		decide := &travelv1.DecideConsultationRequest{Name: c1.GetName(), Approved: []int32{0}, RequestId: "d-1",
			Feedback: []*travelv1.Feedback{{Response: a1.GetName(), Text: "Tack."}}}
		d1, err := e.svc.DecideConsultation(as(migrationsverket), decide)
		if err != nil {
			t.Fatal(err)
		}
		if d2, err := e.svc.DecideConsultation(as(migrationsverket), decide); err != nil || !slices.Equal(d2.GetDecision().GetRoutes(), d1.GetDecision().GetRoutes()) {
			t.Fatalf("repeated decision = %v, %v", d2, err)
		}
		claim := e.submit(t, migrationsverket, newClaim(func(c *travelv1.Claim) { c.DistanceKm = 1 }))
		approve := &travelv1.ApproveClaimRequest{Name: claim.GetName(), Reason: "Ok.", RequestId: "ap-1"}
		if _, err := e.svc.ApproveClaim(as(migrationsverket), approve); err != nil {
			t.Fatal(err)
		}
		if again, err := e.svc.ApproveClaim(as(migrationsverket), approve); err != nil || again.GetState() != travelv1.ClaimState_CLAIM_STATE_APPROVED {
			t.Fatalf("repeated approval = %v, %v", again, err)
		}
		routes := e.count(t, "SELECT COUNT(*) FROM routes")
		responses := e.count(t, "SELECT COUNT(*) FROM consultation_responses")
		decided := e.count(t, "SELECT COUNT(*) FROM outbox WHERE subject = ?", travel.SubjectClaimDecided)
		// ClaimDecided: once into review at submission, once approved.
		if routes != 2 || responses != 1 || decided != 2 {
			t.Fatalf("routes %d, responses %d, ClaimDecided %d; want 2, 1, 2", routes, responses, decided)
		}
	})
}

// TestClaimAtSwedishMidnight: at 23:30 UTC it is already the next day in
// Sweden; a claim for a trip that Swedish day is not "in the future", and
// the submission day counted is the Swedish one.
func TestClaimAtSwedishMidnight(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), travel.Options{})
	e.clock.t = time.Date(2026, 3, 15, 23, 30, 0, 0, time.UTC) // 00:30 on 16 March in Stockholm
	c := e.submit(t, asylumSeeker, newClaim(func(c *travelv1.Claim) { c.TripDate = "2026-03-16" }))
	if c.GetState() != travelv1.ClaimState_CLAIM_STATE_APPROVED {
		t.Fatalf("claim for the Swedish today: %v %v", c.GetState(), c.GetReasons())
	}
	_, err := e.svc.CreateClaim(as(asylumSeeker), &travelv1.CreateClaimRequest{Claim: newClaim(func(c *travelv1.Claim) { c.TripDate = "2026-03-17" })})
	if !slices.Equal(badrequest.Fields(err), []string{"claim.trip_date"}) {
		t.Fatalf("claim for the Swedish tomorrow: %v", err)
	}
}

// TestBadDatesAndCodes: impossible dates and unknown län codes are 400s.
func TestBadDatesAndCodes(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), travel.Options{})
	if _, err := e.svc.GetUsageReport(as(migrationsverket), &travelv1.GetUsageReportRequest{LanCode: "99"}); !slices.Equal(badrequest.Fields(err), []string{"lan_code"}) {
		t.Fatalf("usage report of län 99: %v", err)
	}
	if _, err := e.svc.GetLeadTimeReport(as(migrationsverket), &travelv1.GetLeadTimeReportRequest{LanCode: "00"}); !slices.Equal(badrequest.Fields(err), []string{"lan_code"}) {
		t.Fatalf("lead-time report of län 00: %v", err)
	}
	r, err := e.svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{Route: newRoute("0184", "0180")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevokeRoute(as(migrationsverket), &travelv1.RevokeRouteRequest{Name: r.GetName(), RevokedFrom: "2026-02-30"}); !slices.Equal(badrequest.Fields(err), []string{"revoked_from"}) {
		t.Fatalf("revoke from 2026-02-30: %v", err)
	}
	_, err = e.svc.CreateClaim(as(asylumSeeker), &travelv1.CreateClaimRequest{Claim: newClaim(func(c *travelv1.Claim) { c.TripDate = "2026-02-30" })})
	if !slices.Equal(badrequest.Fields(err), []string{"claim.trip_date"}) {
		t.Fatalf("claim for 2026-02-30: %v", err)
	}
	bad := proposal("2582", "2580")
	bad.ValidTo = "2026-02-31"
	_, err = e.svc.CreateConsultation(as(migrationsverket), &travelv1.CreateConsultationRequest{Consultation: &travelv1.Consultation{
		Proposals: []*travelv1.Route{bad}, Deadline: "2026-04-31"}})
	if got := badrequest.Fields(err); !slices.Contains(got, "consultation.deadline") || !slices.Contains(got, "consultation.proposals[0].valid_to") {
		t.Fatalf("consultation with impossible dates: %v", got)
	}
}

// TestAuditTrail: reads and changes of claims and payment files append
// entries under the claimant's keyed pseudonym; the claimant lists who read
// their data, Migrationsverket verifies the chain.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), travel.Options{})
	c := e.submit(t, asylumSeeker, newClaim())
	if _, err := e.svc.GetClaim(as(migrationsverket), &travelv1.GetClaimRequest{Name: c.GetName()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ListClaims(as(countyBoardStockholm), &travelv1.ListClaimsRequest{}); err != nil {
		t.Fatal(err)
	}
	e.clock.add(48 * time.Hour)
	run, err := e.svc.CreatePaymentRun(as(migrationsverket), &travelv1.CreatePaymentRunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, e, run.GetName())
	if _, err := e.svc.GetPaymentFile(as(migrationsverket), &travelv1.GetPaymentFileRequest{Name: run.GetName() + "/file"}); err != nil {
		t.Fatal(err)
	}
	mine, err := e.svc.SearchAuditEntries(as(asylumSeeker), &auditv1.SearchAuditEntriesRequest{Parent: "auditTrails/travel"})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pseudonym.New(testKey, nil)
	var ops []string
	for _, en := range mine.GetAuditEntries() {
		if en.GetPerson() != key.Of("12-345678") {
			t.Fatalf("entry about %q, want the claimant's pseudonym", en.GetPerson())
		}
		ops = append(ops, en.GetOperation()+" "+en.GetRole()+" "+en.GetResource())
	}
	want := []string{
		"create asylum_seeker " + c.GetName(),
		"read migrationsverket " + c.GetName(),
		"list lansstyrelse claims",
		"update system " + c.GetName(),
		"read migrationsverket " + run.GetName() + "/file",
	}
	if !slices.Equal(ops, want) {
		t.Fatalf("trail\n%q\nwant\n%q", ops, want)
	}
	// The pseudonym is keyed: another key gives another id.
	other, _ := pseudonym.New([]byte("another-key-another-key-another-"), nil)
	if other.Of("12-345678") == key.Of("12-345678") {
		t.Fatal("the pseudonym does not depend on the key")
	}
	if _, err := e.svc.SearchAuditEntries(as(countyBoard), &auditv1.SearchAuditEntriesRequest{Parent: "auditTrails/travel", DossierNumber: "12-345678"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("county board reads the trail: %v", err)
	}
	v, err := e.svc.VerifyAuditTrail(as(migrationsverket), &auditv1.VerifyAuditTrailRequest{Name: "auditTrails/travel"})
	if err != nil || !v.GetIntact() || v.GetEntriesChecked() < 5 {
		t.Fatalf("verify = %v, %v", v, err)
	}
	if _, err := e.db.Exec("UPDATE audit_log SET role = 'migrationsverket' WHERE seq = 1"); err != nil {
		t.Fatal(err)
	}
	if v, err := e.svc.VerifyAuditTrail(as(migrationsverket), &auditv1.VerifyAuditTrailRequest{Name: "auditTrails/travel"}); err != nil || v.GetIntact() || v.GetBrokenAt() != 1 {
		t.Fatalf("verify after tampering = %v, %v", v, err)
	}
}

// TestRetention: finished claims past the window lose their dossier number,
// once across replicas; payments keep what bookkeeping needs.
func TestRetention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, travel.Options{ClaimRetention: 30 * 24 * time.Hour, RetentionEvery: 24 * time.Hour})
		paid := e.submit(t, asylumSeeker, newClaim())
		review := e.submit(t, asylumSeeker, newClaim(func(c *travelv1.Claim) { c.DistanceKm = 1; c.TripDate = "2026-03-13" }))
		e.clock.add(24 * time.Hour)
		run, err := e.svc.CreatePaymentRun(as(migrationsverket), &travelv1.CreatePaymentRunRequest{})
		if err != nil {
			t.Fatal(err)
		}
		waitRun(t, e, run.GetName())
		e.clock.add(40 * 24 * time.Hour)
		// Two replicas on the same database try at once: one runs the job.
		key, _ := pseudonym.New(testKey, nil)
		trail := audit.New(e.db, key)
		opts := travel.Options{Now: e.clock.now, ClaimRetention: 30 * 24 * time.Hour, RetentionEvery: 24 * time.Hour}
		svc, err := travel.NewComponent(opts).New(app.Deps{DB: e.db, Units: uow.New(e.db, nil, trail), Audit: trail, Logger: slog.Default()})
		if err != nil {
			t.Fatal(err)
		}
		replicas := []*travel.Service{e.srv, svc.(*travel.Service)}
		results := make([]int, 2)
		var wg sync.WaitGroup
		for i, r := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := r.RetainOnce(context.Background())
				if err != nil {
					t.Error(err)
				}
				results[i] = n
			}()
		}
		wg.Wait()
		slices.Sort(results)
		if results[0] != -1 || results[1] != 1 {
			t.Fatalf("replicas anonymised %v, want one to run (1 claim) and the other not (-1)", results)
		}
		n, err := replicas[1].RetainOnce(context.Background())
		if err != nil || n != -1 {
			t.Fatalf("the other replica ran within the period: %d, %v", n, err)
		}
		if n, err := e.srv.RetainOnce(context.Background()); err != nil || n != -1 {
			t.Fatalf("retention ran again within its period: %d, %v", n, err)
		}
		var dossier string
		_ = e.db.Get(&dossier, e.db.Rebind("SELECT dossier FROM claims WHERE id = ?"), paid.GetName()[len("claims/"):])
		if dossier != "" {
			t.Fatalf("paid claim keeps dossier %q", dossier)
		}
		_ = e.db.Get(&dossier, e.db.Rebind("SELECT dossier FROM claims WHERE id = ?"), review.GetName()[len("claims/"):])
		if dossier != "12-345678" {
			t.Fatalf("claim still in review lost its dossier (%q)", dossier)
		}
		var amount int64
		if err := e.db.Get(&amount, "SELECT amount_ore FROM payments"); err != nil || amount != paid.GetCostOre() {
			t.Fatalf("payment %d (%v), want %d", amount, err, paid.GetCostOre())
		}
		anonymised := e.count(t, "SELECT COUNT(*) FROM audit_log WHERE operation = 'anonymise'")
		if anonymised != 1 {
			t.Fatalf("%d anonymise entries, want 1", anonymised)
		}
		// The county board's report still counts the claim.
		usage, err := e.svc.GetUsageReport(as(migrationsverket), &travelv1.GetUsageReportRequest{})
		if err != nil || usage.GetRows()[0].GetClaims() != 2 {
			t.Fatalf("usage after retention %v, %v", usage, err)
		}
	})
}
