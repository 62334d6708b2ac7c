package audit

import (
	"context"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/pseudonym"
)

func open(t *testing.T, dsn string) *Trail {
	t.Helper()
	d := dbtest.Open(t, dsn, Migrate)
	k, _ := pseudonym.New([]byte("0123456789abcdef0123456789abcdef"), nil)
	return New(d, k)
}

func TestTrail(t *testing.T) {
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": dbtest.NewSQLite, "postgres": dbtest.NewPostgres} {
		t.Run(name, func(t *testing.T) {
			tr := open(t, dsn(t))
			ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "officer-1", Role: auth.RoleOrganiser, Org: "8020001234"})
			// Concurrent appends still form one chain.
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dossier := "12-345678"
					if i%2 == 1 {
						dossier = "98-765432"
					}
					if err := tr.Record(ctx, tr.Entry(ctx, OpRead, "organisers/8020001234/activities/a/certificates/c", dossier)); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			rep, err := tr.Verify(context.Background())
			if err != nil || !rep.OK() || rep.Checked != 20 {
				t.Fatalf("Verify = %+v, %v; want 20 entries, whole", rep, err)
			}
			mine, err := tr.ListByPerson(context.Background(), "12-345678/1", 0, 100)
			if err != nil || len(mine) != 10 {
				t.Fatalf("ListByPerson = %d entries, %v; want 10", len(mine), err)
			}
			if e := mine[0]; e.Subject != "officer-1" || e.Role != "organiser" || e.Scope != "org:8020001234" || e.Person == "12-345678" {
				t.Fatalf("entry = %+v", e)
			}
			// An asylum seeker reading their own data is recorded by pseudonym.
			me := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "12-345678", Role: auth.RoleAsylumSeeker, Dossier: "12-345678"})
			if e := tr.Entry(me, OpList, "claims", "12-345678"); e.Subject == "12-345678" || e.Scope == "" {
				t.Fatalf("a person's own entry leaks the dossier number: %+v", e)
			}

			// Tampering is found: change one entry's content.
			if _, err := tr.db.Exec(tr.db.Rebind("UPDATE audit_log SET subject = ? WHERE seq = ?"), "someone-else", 7); err != nil {
				t.Fatal(err)
			}
			rep, _ = tr.Verify(context.Background())
			if rep.BrokenAt != 7 {
				t.Fatalf("after an edit, Verify = %+v; want broken at 7", rep)
			}
			// Deleting one from the middle is found too.
			tamper(t, tr.db, "UPDATE audit_log SET subject = 'officer-1' WHERE seq = 7")
			tamper(t, tr.db, "DELETE FROM audit_log WHERE seq = 12")
			if rep, _ = tr.Verify(context.Background()); rep.BrokenAt != 13 {
				t.Fatalf("after a deletion, Verify = %+v; want broken at 13", rep)
			}
		})
	}
}

func tamper(t *testing.T, d *sqlx.DB, q string) {
	t.Helper()
	if _, err := d.Exec(q); err != nil {
		t.Fatal(err)
	}
}
