// Command travel-bench measures a payment run of 100,000 approved claims
// against PostgreSQL: claims paid per second (payments, claim states, run
// totals, one ClaimPaid event per claim in the outbox, and the pain.001
// file), next to a plain SQL INSERT … SELECT writing the same payment rows
// (and to the same with the claims' states updated in the same
// transaction), and the process's peak RSS. The run and its baselines are
// measured in alternating rounds, each from the same state, and the medians
// are reported. It prints BENCH lines, and a line per round on stderr.
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
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

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
	flag.IntVar(&rounds, "rounds", 3, "rounds of the run and its baselines (odd: the medians are reported)")
	flag.StringVar(&profileDir, "profile-dir", "", "write CPU and allocation profiles of the payment run (travel_payment_run.*.pprof) into this folder")
	flag.Parse()
	if err := run(*claims, *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "travel-bench:", err)
		os.Exit(1)
	}
}

// profileDir is where -profile-dir puts the profiles ("" for none).
var profileDir string

// rounds is -rounds: how many times the run and its baselines are measured.
var rounds int

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

	if _, err := d.ExecContext(ctx, `INSERT INTO payment_runs (id, state, request_id, claim_count, total_ore, create_time, complete_time)
		VALUES ('baseline', 'SUCCEEDED', '', 0, 0, '', '')`); err != nil {
		return err
	}
	// The payment run and its two baselines, alternating in rounds so that a
	// change in the machine's other load weighs on all three alike; the
	// medians are reported. Each measurement starts from the same state: all
	// claims approved and none paid, no payments, events or audit entries,
	// and the tables vacuumed and analysed.
	var runs, plain, plainUpdate []time.Duration
	for round := range rounds {
		if err := reset(ctx, d, dir); err != nil {
			return err
		}
		prof := ""
		if round == 0 {
			prof = profileDir
		}
		t, err := paymentRun(ctx, s, mv, d, trail, dir, n, want, prof)
		if err != nil {
			return err
		}
		runs = append(runs, t)
		for _, update := range []bool{false, true} {
			if err := reset(ctx, d, dir); err != nil {
				return err
			}
			if t, err = baseline(ctx, d, n, update); err != nil {
				return err
			}
			if update {
				plainUpdate = append(plainUpdate, t)
			} else {
				plain = append(plain, t)
			}
		}
		fmt.Fprintf(os.Stderr, "# round %d: run %.2f s, insert … select %.2f s, with the claims' update %.2f s\n",
			round+1, runs[round].Seconds(), plain[round].Seconds(), plainUpdate[round].Seconds())
	}

	rate := float64(n) / median(runs).Seconds()
	baseRate := float64(n) / median(plain).Seconds()
	baseUpdRate := float64(n) / median(plainUpdate).Seconds()
	fmt.Printf("BENCH travel_payment_run_claims %d claims\n", n)
	fmt.Printf("BENCH travel_payment_run %.0f claims/s (median of %d)\n", rate, rounds)
	fmt.Printf("BENCH travel_payment_run_seconds %.2f s (median of %d)\n", median(runs).Seconds(), rounds)
	fmt.Printf("BENCH travel_payment_insert_select %.0f claims/s (median of %d)\n", baseRate, rounds)
	fmt.Printf("BENCH travel_payment_run ratio %.2f vs travel_payment_insert_select\n", rate/baseRate)
	fmt.Printf("BENCH travel_payment_insert_select_update %.0f claims/s (median of %d)\n", baseUpdRate, rounds)
	fmt.Printf("BENCH travel_payment_run ratio %.2f vs travel_payment_insert_select_update\n", rate/baseUpdRate)
	fmt.Printf("BENCH travel_bench_peak_rss %.0f MB\n", peakRSSMB())
	return nil
}

// reset brings the database back to where every measurement starts: all
// claims approved and unpaid, no payments, payment runs (but the baselines'),
// events, audit entries or payment files, and the tables vacuumed and
// analysed (a bulk insert or update leaves pages whose first reader pays
// for setting their hint bits; vacuumed, no measurement pays for another's
// leftovers).
func reset(ctx context.Context, d *sqlx.DB, dir string) error {
	for _, q := range []string{
		`DELETE FROM payments`,
		`DELETE FROM payment_runs WHERE id <> 'baseline'`,
		`UPDATE claims SET state = 'APPROVED', payment_run = '', pay_time = '' WHERE state <> 'APPROVED'`,
		`DELETE FROM outbox`,
		`DELETE FROM audit_log`,
		`UPDATE audit_head SET seq = 0, hash = ''`,
		`VACUUM ANALYZE claims, payments, payment_runs, outbox, audit_log, audit_head`,
	} {
		if _, err := d.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("reset: %s: %w", q, err)
		}
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.Remove(filepath.Join(dir, f.Name())); err != nil {
			return err
		}
	}
	return nil
}

// paymentRun starts a payment run through the service, as Migrationsverket
// does, waits until it has SUCCEEDED and returns how long that took. It
// checks the run did what it is measured for: every claim paid, one payment
// file, an event and an audit entry per claim, the trail's chain whole. With
// profileDir, the run is profiled.
func paymentRun(ctx context.Context, s *travel.Service, mv context.Context, d *sqlx.DB, trail *audit.Trail, dir string,
	n int, want int64, profileDir string) (time.Duration, error) {
	stopProfile, err := profiling.Start(profileDir, "travel_payment_run")
	if err != nil {
		return 0, err
	}
	start := time.Now()
	r, err := s.CreatePaymentRun(mv, &travelv1.CreatePaymentRunRequest{})
	if err != nil {
		return 0, err
	}
	for {
		got, err := s.GetPaymentRun(mv, &travelv1.GetPaymentRunRequest{Name: r.GetName()})
		if err != nil {
			return 0, err
		}
		if got.GetState() == travelv1.PaymentRunState_PAYMENT_RUN_STATE_SUCCEEDED {
			if got.GetClaimCount() != int64(n) || got.GetTotalOre() != want {
				return 0, fmt.Errorf("run paid %d claims, %d öre; want %d, %d", got.GetClaimCount(), got.GetTotalOre(), n, want)
			}
			break
		}
		elapsed := time.Since(start)
		if elapsed > 2*time.Minute {
			return 0, fmt.Errorf("the payment run has not finished after 2 min (%d claims paid)", got.GetClaimCount())
		}
		// Poll at a hundredth of the time so far: the end is seen at most
		// 1 % late, and the polls (a query each) take next to nothing from
		// the run they measure on a busy machine.
		time.Sleep(min(max(elapsed/100, time.Millisecond), 50*time.Millisecond))
	}
	runTime := time.Since(start)
	if err := stopProfile(); err != nil {
		return 0, err
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		return 0, fmt.Errorf("%d payment files written, want 1", len(files))
	}
	var outbox, entries int
	if err := d.GetContext(ctx, &outbox, "SELECT COUNT(*) FROM outbox"); err != nil {
		return 0, err
	}
	if err := d.GetContext(ctx, &entries, "SELECT COUNT(*) FROM audit_log"); err != nil {
		return 0, err
	}
	if outbox != n || entries != n {
		return 0, fmt.Errorf("the run wrote %d events and %d audit entries for %d claims", outbox, entries, n)
	}
	if rep, err := trail.Verify(ctx); err != nil || !rep.OK() {
		return 0, fmt.Errorf("audit trail after the run: %+v %v", rep, err)
	}
	return runTime, nil
}

// baseline writes the same payment rows with one INSERT … SELECT in one
// transaction (no events, audit entries or file), with update also marking
// the claims paid, and returns how long that took.
func baseline(ctx context.Context, d *sqlx.DB, n int, update bool) (time.Duration, error) {
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
	if update {
		if _, err := tx.ExecContext(ctx, `UPDATE claims SET state = 'PAID', payment_run = 'baseline', pay_time = $1 WHERE state = 'APPROVED'`, paid); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// median is the middle of an odd number of durations.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
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
