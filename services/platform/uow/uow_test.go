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
