package db_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
)

// TestStatements: reads through kept statements see every committed write
// (a statement is a parsed query, never a cached answer), from many
// goroutines at once and inside and outside transactions; the set stops
// growing at MaxStatements and the queries beyond it still run.
func TestStatements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		d := dbtest.Open(t, dsn)
		ctx := t.Context()
		if _, err := d.ExecContext(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		s := db.NewStatements(d)
		get := s.Rebind("SELECT v FROM kv WHERE k = ?")
		for i := range 3 {
			if _, err := d.ExecContext(ctx, d.Rebind("INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v"), "a", i); err != nil {
				t.Fatal(err)
			}
			var v int
			if err := s.QueryRowxContext(ctx, get, "a").Scan(&v); err != nil || v != i {
				t.Fatalf("after writing %d: read %d, %v", i, v, err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for range 16 {
			wg.Go(func() {
				for range 20 {
					var v int
					if err := s.QueryRowxContext(ctx, get, "a").Scan(&v); err != nil || v != 2 {
						errs <- fmt.Errorf("read %d, %v", v, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if s.Len() != 1 {
			t.Fatalf("%d statements kept for one query", s.Len())
		}
		for i := range db.MaxStatements + 10 {
			rows, err := s.QueryContext(ctx, fmt.Sprintf("SELECT v + %d FROM kv", i))
			if err != nil {
				t.Fatal(err)
			}
			var v int
			if !rows.Next() || rows.Scan(&v) != nil || v != 2+i {
				t.Fatalf("query %d read %d", i, v)
			}
			_ = rows.Close()
		}
		if s.Len() != db.MaxStatements {
			t.Fatalf("%d statements kept, want at most %d", s.Len(), db.MaxStatements)
		}
		if _, err := s.QueryContext(ctx, "SELECT nope FROM kv"); err == nil {
			t.Fatal("a query that does not prepare ran")
		}
	})
}
