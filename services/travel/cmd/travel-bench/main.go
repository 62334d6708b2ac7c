// Command travel-bench measures a payment run of 100,000 approved claims
// against PostgreSQL: claims paid per second (payments, claim states, run
// totals, one ClaimPaid event per claim in the outbox, and the pain.001
// file), next to a plain SQL INSERT … SELECT writing the same payment rows
// (and to the same with the claims' states updated in the same
// transaction), and the process's peak RSS. It prints BENCH lines.
//
//	go run ./services/travel/cmd/travel-bench [-claims 100000] [-dsn postgres://…]
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/profiling"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/travel"
	"github.com/tia-platform/tia/services/travel/internal/benchdata"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

func main() {
	claims := flag.Int("claims", 100000, "approved claims to pay")
	flag.IntVar(&paymentBatch, "batch", 0, "claims per payment transaction (0: the service's default)")
	dsn := flag.String("dsn", envOr("TIA_TEST_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		"PostgreSQL server (a fresh database is created on it and dropped afterwards)")
	flag.StringVar(&profileDir, "profile-dir", "", "write CPU and allocation profiles of the payment run (travel_payment_run.*.pprof) into this folder")
	flag.Parse()
	if err := run(*claims, *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "travel-bench:", err)
		os.Exit(1)
	}
}

// profileDir is where -profile-dir puts the profiles ("" for none).
var profileDir string

// paymentBatch is -batch: claims per payment transaction (0: the default).
var paymentBatch int

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(n int, base string) error {
	ctx := context.Background()
	dsn, drop, err := db.CreateDatabase(ctx, base, "travel_bench_")
	if err != nil {
		return err
	}
	defer drop() //nolint:errcheck
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := events.Migrate(ctx, d); err != nil {
		return err
	}
	if err := db.Migrate(ctx, d, store.Migrations, "travel_migrations"); err != nil {
		return err
	}
	submitted := time.Now().AddDate(0, 0, -1)
	want, err := benchdata.InsertApproved(ctx, d, n, submitted)
	if err != nil {
		return err
	}
	if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "travel-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The units of work and the audit trail a host gives the service.
	if err := uow.Migrate(ctx, d); err != nil {
		return err
	}
	if err := audit.Migrate(ctx, d); err != nil {
		return err
	}
	pkey := make([]byte, 32)
	_, _ = rand.Read(pkey) // never fails; see crypto/rand.Read
	keyer, err := pseudonym.New(pkey, nil)
	if err != nil {
		return err
	}
	trail := audit.New(d, keyer)
	svc, err := travel.NewComponent(travel.Options{PaymentDir: dir, PaymentBatch: paymentBatch}).New(app.Deps{
		DB: d, Logger: quiet, Units: uow.New(d, nil, trail), Audit: trail, Pseudonyms: keyer,
	})
	if err != nil {
		return err
	}
	s := svc.(*travel.Service)
	// The payment runner is background work the host runs (app.Runner):
	// run it here as the host would.
	runCtx, stopRunner := context.WithCancel(ctx)
	defer stopRunner()
	go func() { _ = s.Run(runCtx) }()
	mv := auth.WithPrincipal(ctx, auth.Principal{Subject: "bench", Role: auth.RoleMigrationsverket})

	// The payment run, as the service runs it.
	stopProfile, err := profiling.Start(profileDir, "travel_payment_run")
	if err != nil {
		return err
	}
	start := time.Now()
	r, err := s.CreatePaymentRun(mv, &travelv1.CreatePaymentRunRequest{})
	if err != nil {
		return err
	}
	for {
		got, err := s.GetPaymentRun(mv, &travelv1.GetPaymentRunRequest{Name: r.GetName()})
		if err != nil {
			return err
		}
		if got.GetState() == travelv1.PaymentRunState_PAYMENT_RUN_STATE_SUCCEEDED {
			if got.GetClaimCount() != int64(n) || got.GetTotalOre() != want {
				return fmt.Errorf("run paid %d claims, %d öre; want %d, %d", got.GetClaimCount(), got.GetTotalOre(), n, want)
			}
			break
		}
		elapsed := time.Since(start)
		if elapsed > 2*time.Minute {
			return fmt.Errorf("the payment run has not finished after 2 min (%d claims paid)", got.GetClaimCount())
		}
		// Poll at a hundredth of the time so far: the end is seen at most
		// 1 % late, and the polls (a query each) take next to nothing from
		// the run they measure on a busy machine.
		time.Sleep(min(max(elapsed/100, time.Millisecond), 50*time.Millisecond))
	}
	runTime := time.Since(start)
	if err := stopProfile(); err != nil {
		return err
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		return fmt.Errorf("%d payment files written, want 1", len(files))
	}
	// The run wrote what it is measured for: an event and an audit entry
	// per claim, the trail's chain whole.
	var outbox, entries int
	if err := d.GetContext(ctx, &outbox, "SELECT COUNT(*) FROM outbox"); err != nil {
		return err
	}
	if err := d.GetContext(ctx, &entries, "SELECT COUNT(*) FROM audit_log"); err != nil {
		return err
	}
	if outbox != n || entries != n {
		return fmt.Errorf("the run wrote %d events and %d audit entries for %d claims", outbox, entries, n)
	}
	if rep, err := trail.Verify(ctx); err != nil || !rep.OK() {
		return fmt.Errorf("audit trail after the run: %+v %v", rep, err)
	}

	// The baselines: the same payment rows written by one INSERT … SELECT
	// in one transaction (no claim states, events or file), and the same
	// with the claims' states updated too.
	baseline := func(updateClaims bool) (time.Duration, error) {
		if _, err := d.ExecContext(ctx, `UPDATE claims SET state = 'APPROVED', payment_run = '', pay_time = ''`); err != nil {
			return 0, err
		}
		if _, err := d.ExecContext(ctx, `DELETE FROM payments`); err != nil {
			return 0, err
		}
		if _, err := d.ExecContext(ctx, "VACUUM ANALYZE claims"); err != nil {
			return 0, err
		}
		if _, err := d.ExecContext(ctx, "VACUUM ANALYZE payments"); err != nil {
			return 0, err
		}
		start := time.Now()
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		defer tx.Rollback() //nolint:errcheck
		paid := time.Now().UTC().Format(store.TimeLayout)
		res, err := tx.ExecContext(ctx, `INSERT INTO payments (claim_id, run_id, amount_ore, dossier, trip_date, paid_time)
			SELECT id, 'baseline', cost_ore, dossier, trip_date, $1 FROM claims WHERE state = 'APPROVED'`, paid)
		if err != nil {
			return 0, err
		}
		if rows, _ := res.RowsAffected(); rows != int64(n) {
			return 0, fmt.Errorf("baseline wrote %d payments, want %d", rows, n)
		}
		if updateClaims {
			if _, err := tx.ExecContext(ctx, `UPDATE claims SET state = 'PAID', payment_run = 'baseline', pay_time = $1 WHERE state = 'APPROVED'`, paid); err != nil {
				return 0, err
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO payment_runs (id, state, request_id, claim_count, total_ore, create_time, complete_time)
		VALUES ('baseline', 'SUCCEEDED', '', 0, 0, '', '')`); err != nil {
		return err
	}
	baseTime, err := baseline(false)
	if err != nil {
		return err
	}
	baseUpdTime, err := baseline(true)
	if err != nil {
		return err
	}

	rate := float64(n) / runTime.Seconds()
	baseRate := float64(n) / baseTime.Seconds()
	fmt.Printf("BENCH travel_payment_run_claims %d claims\n", n)
	fmt.Printf("BENCH travel_payment_run %.0f claims/s\n", rate)
	fmt.Printf("BENCH travel_payment_run_seconds %.2f s\n", runTime.Seconds())
	fmt.Printf("BENCH travel_payment_insert_select %.0f claims/s\n", baseRate)
	fmt.Printf("BENCH travel_payment_run ratio %.2f vs travel_payment_insert_select\n", rate/baseRate)
	baseUpdRate := float64(n) / baseUpdTime.Seconds()
	fmt.Printf("BENCH travel_payment_insert_select_update %.0f claims/s\n", baseUpdRate)
	fmt.Printf("BENCH travel_payment_run ratio %.2f vs travel_payment_insert_select_update\n", rate/baseUpdRate)
	fmt.Printf("BENCH travel_bench_peak_rss %.0f MB\n", peakRSSMB())
	return nil
}

// peakRSSMB is the process's peak resident set (VmHWM), in MB.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}
