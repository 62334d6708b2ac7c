package store_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/travel/internal/benchdata"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// startRun creates a RUNNING payment run.
func startRun(t *testing.T, s testStore, id string) {
	t.Helper()
	err := db.InTx(t.Context(), s.db, func(tx *sqlx.Tx) error {
		return store.CreateRun(t.Context(), tx, domain.PaymentRun{ID: id, State: domain.RunRunning, CreateTime: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// payAll pays the run batch by batch as the payment runner walks it (to the
// end, then once more from the start) and returns the claims it paid.
func payAll(ctx context.Context, s testStore, runID string, n int) ([]domain.Claim, error) {
	var paid []domain.Claim
	after, fromStart := "", true
	for {
		var b store.Batch
		err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
			var err error
			b, err = s.PayBatch(ctx, tx, runID, after, n, time.Now())
			return err
		})
		if err != nil {
			return paid, err
		}
		paid = append(paid, b.Paid...)
		switch {
		case b.Taken > 0:
			after, fromStart = b.Last, false
		case fromStart:
			return paid, nil
		default:
			after, fromStart = "", true
		}
	}
}

// TestPayBatchReplicas: two replicas executing the same run at once (as
// after a restart of both) pay every claim once between them, and the run's
// totals are those of the payments.
func TestPayBatchReplicas(t *testing.T) {
	ctx := t.Context()
	s := open(t, dbtest.NewPostgres(t))
	const claims = 300
	want, err := benchdata.InsertApproved(ctx, s.db, claims, time.Now().AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	startRun(t, s, "run1")
	var wg sync.WaitGroup
	paid := make([][]domain.Claim, 2)
	errs := make([]error, 2)
	for i := range paid {
		wg.Go(func() { paid[i], errs[i] = payAll(ctx, s, "run1", 7) })
	}
	wg.Wait()
	seen := map[string]bool{}
	var sum int64
	for i := range paid {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, c := range paid[i] {
			if seen[c.ID] {
				t.Fatalf("claim %s paid by both replicas", c.ID)
			}
			seen[c.ID] = true
			sum += c.CostOre
		}
	}
	if len(seen) != claims || sum != want {
		t.Fatalf("paid %d claims, %d öre; want %d, %d", len(seen), sum, claims, want)
	}
	count, total, err := s.RunTotals(ctx, "run1")
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.GetRun(ctx, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if count != claims || total != want || run.ClaimCount != claims || run.TotalOre != want {
		t.Fatalf("payments %d, %d öre; run totals %d, %d öre; want %d, %d", count, total, run.ClaimCount, run.TotalOre, claims, want)
	}
}

// TestPayBatchConcurrentChange: a claim changed by a transaction that
// commits while a batch waits for it is paid as it is after the change, or
// not at all when it is no longer approved.
func TestPayBatchConcurrentChange(t *testing.T) {
	for _, tt := range []struct {
		name       string
		change     string // SQL run on the first claim ($1) in a concurrent transaction
		wantPaid   bool
		wantAmount int64
		wantState  string
	}{
		{"rejected", "UPDATE claims SET state = 'REJECTED' WHERE id = $1", false, 0, domain.StateRejected},
		{"cost changed", "UPDATE claims SET cost_ore = 9999 WHERE id = $1", true, 9999, domain.StatePaid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := open(t, dbtest.NewPostgres(t))
			if _, err := benchdata.InsertApproved(ctx, s.db, 5, time.Now().AddDate(0, 0, -1)); err != nil {
				t.Fatal(err)
			}
			startRun(t, s, "run1")
			var first string
			if err := s.db.GetContext(ctx, &first, "SELECT MIN(id) FROM claims"); err != nil {
				t.Fatal(err)
			}
			change, err := s.db.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer change.Rollback() //nolint:errcheck
			if _, err := change.ExecContext(ctx, tt.change, first); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			var b store.Batch
			go func() {
				done <- db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
					var err error
					b, err = s.PayBatch(ctx, tx, "run1", "", 10, time.Now())
					return err
				})
			}()
			// Commit the change once the batch waits for the claim's row.
			for waiting := 0; waiting == 0; {
				select {
				case err := <-done:
					t.Fatalf("the batch did not wait for the changed claim: %v", err)
				case <-time.After(10 * time.Millisecond):
				}
				if err := s.db.GetContext(ctx, &waiting, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"); err != nil {
					t.Fatal(err)
				}
			}
			if err := change.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if b.Taken != 5 || len(b.Paid) != len(b.Payments) {
				t.Fatalf("batch took %d claims, paid %d with %d payments; want 5 taken", b.Taken, len(b.Paid), len(b.Payments))
			}
			var amount int64
			paid := false
			for i, c := range b.Paid {
				if c.ID == first {
					paid, amount = true, b.Payments[i].AmountOre
				}
				// The claims the events are made of are the stored ones.
				stored, err := s.GetClaim(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(c, stored) {
					t.Fatalf("paid claim %+v, stored %+v", c, stored)
				}
			}
			if paid != tt.wantPaid || amount != tt.wantAmount {
				t.Fatalf("changed claim paid %v, %d öre; want %v, %d", paid, amount, tt.wantPaid, tt.wantAmount)
			}
			var stored struct {
				State    string `db:"state"`
				Payments int    `db:"payments"`
			}
			if err := s.db.GetContext(ctx, &stored, "SELECT state, (SELECT COUNT(*) FROM payments WHERE claim_id = $1) AS payments FROM claims WHERE id = $1", first); err != nil {
				t.Fatal(err)
			}
			if stored.State != tt.wantState || (stored.Payments == 1) != tt.wantPaid {
				t.Fatalf("changed claim stored %s with %d payments; want %s, paid %v", stored.State, stored.Payments, tt.wantState, tt.wantPaid)
			}
		})
	}
}
