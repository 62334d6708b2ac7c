package travel_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/healthcheck"
	"github.com/tia-platform/tia/services/travel/internal/benchdata"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// TestPaymentRunSurvivesSIGKILL runs the travel binary against PostgreSQL
// and NATS, starts a payment run over thousands of approved claims, kills
// the process with SIGKILL in the middle of it, starts it again and checks
// that the resumed run paid every claim exactly once: one payment and one
// ClaimPaid event per claim, and totals that match.
func TestPaymentRunSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the travel binary")
	}
	const claims = 5000
	ctx := context.Background()
	dir := t.TempDir()
	dsn := dbtest.NewPostgres(t)
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := events.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, d, store.Migrations, "travel_migrations"); err != nil {
		t.Fatal(err)
	}
	want, err := benchdata.InsertApproved(ctx, d, claims, time.Now().AddDate(0, 0, -2))
	if err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(dir, "travel")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/travel").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	key, err := auth.DevKey(filepath.Join(dir, "keys", "dev.pem"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := auth.NewIssuer(key, "").Issue(migrationsverket, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	env := append(os.Environ(),
		"TIA_GRPC_ADDR="+addr,
		"TIA_DATABASE_DSN="+dsn,
		"TIA_NATS_URL=nats://127.0.0.1:4222",
		fmt.Sprintf("TIA_NATS_PREFIX=killtest%d.", time.Now().UnixNano()),
		"TIA_TOKEN_KEY="+filepath.Join(dir, "keys", "dev.pem.pub"),
		"TIA_ACTIVITY_ADDR=127.0.0.1:1",
		"TIA_LOG_LEVEL=warn",
		"TIA_TRAVEL_PAYMENT_BATCH=25",
		"TIA_TRAVEL_RECHECK_INTERVAL=200ms",
	)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin)
		cmd.Env = env
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.BearerToken(token)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitServing := func() {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := healthcheck.Wait(wctx, conn, "", 50*time.Millisecond, nil); err != nil {
			t.Fatalf("travel binary: %v", err)
		}
	}
	client := travelv1.NewTravelServiceClient(conn)

	cmd := start()
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	waitServing()
	run, err := client.CreatePaymentRun(ctx, &travelv1.CreatePaymentRunRequest{RequestId: "kill-test"})
	if err != nil {
		t.Fatal(err)
	}
	// Kill it once some, but not all, claims are paid.
	var paidAtKill int
	for {
		if err := d.GetContext(ctx, &paidAtKill, "SELECT COUNT(*) FROM payments"); err != nil {
			t.Fatal(err)
		}
		if paidAtKill >= claims/10 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true
	if err := d.GetContext(ctx, &paidAtKill, "SELECT COUNT(*) FROM payments"); err != nil {
		t.Fatal(err)
	}
	if paidAtKill >= claims {
		t.Fatalf("the run finished (%d payments) before the kill; make the batches smaller", paidAtKill)
	}
	var state string
	_ = d.GetContext(ctx, &state, "SELECT state FROM payment_runs")
	t.Logf("killed with %d of %d claims paid, run %s", paidAtKill, claims, state)

	// Restart: the service resumes the run on its own; asking again with
	// the same request id returns the same run.
	cmd = start()
	killed = false
	waitServing()
	again, err := client.CreatePaymentRun(ctx, &travelv1.CreatePaymentRunRequest{RequestId: "kill-test"})
	if err != nil || again.GetName() != run.GetName() {
		t.Fatalf("CreatePaymentRun again = %v, %v; want %s", again, err, run.GetName())
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := client.GetPaymentRun(ctx, &travelv1.GetPaymentRunRequest{Name: run.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetState() == travelv1.PaymentRunState_PAYMENT_RUN_STATE_SUCCEEDED {
			if got.GetClaimCount() != claims || got.GetTotalOre() != want {
				t.Fatalf("run totals %d claims, %d öre; want %d, %d", got.GetClaimCount(), got.GetTotalOre(), claims, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run still %v", got.GetState())
		}
		time.Sleep(20 * time.Millisecond)
	}

	var totals struct {
		Payments int   `db:"payments"`
		Claims   int   `db:"claims"`
		Sum      int64 `db:"sum"`
	}
	if err := d.GetContext(ctx, &totals, `SELECT COUNT(*) AS payments, COUNT(DISTINCT claim_id) AS claims,
		COALESCE(SUM(amount_ore), 0) AS sum FROM payments`); err != nil {
		t.Fatal(err)
	}
	if totals.Payments != claims || totals.Claims != claims || totals.Sum != want {
		t.Fatalf("payments %+v; want %d claims paid once, %d öre", totals, claims, want)
	}
	var unpaid, wrongRun, events int
	_ = d.GetContext(ctx, &unpaid, "SELECT COUNT(*) FROM claims WHERE state <> 'PAID'")
	_ = d.GetContext(ctx, &wrongRun, `SELECT COUNT(*) FROM claims c JOIN payments p ON p.claim_id = c.id
		WHERE c.payment_run <> p.run_id OR c.pay_time <> p.paid_time`)
	_ = d.GetContext(ctx, &events, "SELECT COUNT(*) FROM outbox WHERE subject = 'tia.travel.ClaimPaid'")
	if unpaid != 0 || wrongRun != 0 || events != claims {
		t.Fatalf("unpaid claims %d, claims disagreeing with their payment %d, ClaimPaid events %d (want 0, 0, %d)",
			unpaid, wrongRun, events, claims)
	}
	file, err := client.GetPaymentFile(ctx, &travelv1.GetPaymentFileRequest{Name: run.GetName() + "/file"})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(file.GetContent()), "<CdtTrfTxInf>"); n != claims {
		t.Fatalf("payment file has %d transfers, want %d", n, claims)
	}
	checkPain001(t, file.GetContent(), claims, want)
}
