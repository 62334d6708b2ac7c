package uow

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/pseudonym"
)

func TestOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		d := dbtest.Open(t, dsn, events.Migrate, Migrate, audit.Migrate)
		if _, err := d.Exec("CREATE TABLE things (id TEXT PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		k, _ := pseudonym.New([]byte("0123456789abcdef0123456789abcdef"), nil)
		r := New(d, nil, audit.New(d, k))
		caller := auth.WithPrincipal(ctx, auth.Principal{Subject: "o", Role: auth.RoleOrganiser, Org: "8020001234"})
		var applied atomic.Int32
		create := func(ctx context.Context, id string) (*wrapperspb.StringValue, error) {
			return Once(ctx, r, Request{Method: "Create", ID: "req-1"}, func(w *Work) (*wrapperspb.StringValue, error) {
				applied.Add(1)
				if _, err := w.Exec(w.Rebind("INSERT INTO things (id) VALUES (?)"), id); err != nil {
					return nil, err
				}
				if err := w.Audit(audit.OpCreate, "things/"+id, "12-345678"); err != nil {
					return nil, err
				}
				return wrapperspb.String(id), nil
			})
		}
		// Sent many times at once, with different generated ids: applied once,
		// and every answer is the first result.
		var wg sync.WaitGroup
		answers := make([]string, 8)
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := create(caller, "thing-"+string(rune('a'+i)))
				if err != nil {
					t.Error(err)
					return
				}
				answers[i] = res.GetValue()
			}()
		}
		wg.Wait()
		var n int
		if err := d.Get(&n, "SELECT COUNT(*) FROM things"); err != nil || n != 1 {
			t.Fatalf("%d rows stored, want 1 (%v)", n, err)
		}
		for _, a := range answers {
			if a != answers[0] {
				t.Fatalf("answers differ: %v", answers)
			}
		}
		// Another caller's request with the same id is its own request.
		other := auth.WithPrincipal(ctx, auth.Principal{Subject: "p", Role: auth.RoleOrganiser, Org: "8020005678"})
		if _, err := create(other, "thing-z"); err != nil {
			t.Fatal(err)
		}
		if err := d.Get(&n, "SELECT COUNT(*) FROM things"); err != nil || n != 2 {
			t.Fatalf("%d rows stored, want 2 (%v)", n, err)
		}
		// A failed change stores no result, so the client may try again.
		boom := errors.New("boom")
		_, err := Once(caller, r, Request{Method: "Fail", ID: "req-2"}, func(w *Work) (*wrapperspb.StringValue, error) { return nil, boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		res, err := Once(caller, r, Request{Method: "Fail", ID: "req-2"}, func(w *Work) (*wrapperspb.StringValue, error) { return wrapperspb.String("ok"), nil })
		if err != nil || res.GetValue() != "ok" {
			t.Fatalf("retry after failure = %v, %v", res, err)
		}
		if rep, err := r.Trail().Verify(ctx); err != nil || rep.Checked != 2 || !rep.OK() {
			t.Fatalf("trail = %+v, %v; want the 2 applied creates", rep, err)
		}
	})
}

// TestSweep: batches run in units of their own until one is short; a batch
// that fails rolls back alone, and a sweep whose context ended stops
// between batches without an error.
func TestSweep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		d := dbtest.Open(t, dsn, events.Migrate, Migrate)
		if _, err := d.Exec("CREATE TABLE things (id INTEGER PRIMARY KEY, done INTEGER NOT NULL DEFAULT 0)"); err != nil {
			t.Fatal(err)
		}
		for i := range 7 {
			if _, err := d.Exec(d.Rebind("INSERT INTO things (id) VALUES (?)"), i); err != nil {
				t.Fatal(err)
			}
		}
		r := New(d, nil, nil)
		boom := errors.New("boom")
		units := 0
		step := func(failAt int) func(w *Work) (int, error) {
			return func(w *Work) (int, error) {
				units++
				var ids []int
				if err := w.Select(&ids, w.Rebind("SELECT id FROM things WHERE done = 0 ORDER BY id LIMIT ?"), 3); err != nil {
					return 0, err
				}
				for _, id := range ids {
					if _, err := w.Exec(w.Rebind("UPDATE things SET done = 1 WHERE id = ?"), id); err != nil {
						return 0, err
					}
				}
				if units == failAt {
					return 0, boom
				}
				return len(ids), nil
			}
		}
		done := func() (n int) {
			if err := d.Get(&n, "SELECT COUNT(*) FROM things WHERE done = 1"); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n, err := r.Sweep(ctx, 3, step(2)); !errors.Is(err, boom) || n != 3 || done() != 3 {
			t.Fatalf("failing second batch: %d rows, %v, %d done; want 3, boom, 3", n, err, done())
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if n, err := r.Sweep(cancelled, 3, step(0)); err != nil || n != 0 || done() != 3 {
			t.Fatalf("ended context: %d rows, %v; want 0, nil", n, err)
		}
		units = 0
		if n, err := r.Sweep(ctx, 3, step(0)); err != nil || n != 4 || units != 2 || done() != 7 {
			t.Fatalf("the rest: %d rows in %d units, %v; want 4 in 2", n, units, err)
		}
	})
}
