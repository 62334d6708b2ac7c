package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
)

func TestOpenDialectAndRebind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		dsn         func(t *testing.T) string
		wantDialect string
		wantQuery   string
	}{
		{"sqlite prefix", func(t *testing.T) string { return dbtest.NewSQLite(t) }, db.DialectSQLite, "SELECT ? , ?"},
		{"file prefix", func(t *testing.T) string { return "file:" + t.TempDir() + "/f.db" }, db.DialectSQLite, "SELECT ? , ?"},
		{"postgres", func(t *testing.T) string { return dbtest.NewPostgres(t) }, db.DialectPostgres, "SELECT $1 , $2"},
		{"postgresql scheme", func(t *testing.T) string {
			return strings.Replace(dbtest.NewPostgres(t), "postgres://", "postgresql://", 1)
		}, db.DialectPostgres, "SELECT $1 , $2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dbtest.Open(t, tt.dsn(t))
			if got := db.Dialect(d); got != tt.wantDialect {
				t.Errorf("Dialect = %q, want %q", got, tt.wantDialect)
			}
			if got := d.Rebind("SELECT ? , ?"); got != tt.wantQuery {
				t.Errorf("Rebind = %q, want %q", got, tt.wantQuery)
			}
			var n int
			if err := d.GetContext(t.Context(), &n, d.Rebind("SELECT 1 + ?"), 41); err != nil {
				t.Fatalf("query: %v", err)
			}
			if n != 42 {
				t.Errorf("SELECT 1 + 41 = %d", n)
			}
		})
	}
}

func TestOpenSQLitePragmas(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, dbtest.NewSQLite(t))
	checks := map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "10000",
		"foreign_keys": "1",
	}
	for pragma, want := range checks {
		var got string
		if err := d.GetContext(t.Context(), &got, "PRAGMA "+pragma); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dsn  string
	}{
		{"unknown scheme", "mysql://root@localhost/x"},
		{"empty sqlite path", "sqlite:"},
		{"unreachable postgres", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := db.Open(t.Context(), tt.dsn); err == nil {
				_ = d.Close()
				t.Fatalf("Open(%q) succeeded, want error", tt.dsn)
			}
		})
	}
}

var serviceMigrations = fstest.MapFS{
	"00001_widgets.sql": {Data: []byte(`-- +goose Up
CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
-- +goose Down
DROP TABLE widgets;
`)},
	"00002_widget_color.sql": {Data: []byte(`-- +goose Up
ALTER TABLE widgets ADD COLUMN color TEXT;
-- +goose Down
ALTER TABLE widgets DROP COLUMN color;
`)},
}

var otherMigrations = fstest.MapFS{
	"00001_gadgets.sql": {Data: []byte(`-- +goose Up
CREATE TABLE gadgets (id INTEGER PRIMARY KEY);
-- +goose Down
DROP TABLE gadgets;
`)},
}

// migrateWidgets applies serviceMigrations: the widgets table.
func migrateWidgets(ctx context.Context, d *sqlx.DB) error {
	return db.Migrate(ctx, d, serviceMigrations, "widget_migrations")
}

func maxVersion(t *testing.T, d *sqlx.DB, table string) int64 {
	t.Helper()
	var v int64
	if err := d.GetContext(t.Context(), &v, "SELECT MAX(version_id) FROM "+table); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return v
}

func TestMigrateIndependentVersionTables(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		d := dbtest.Open(t, dsn)

		for range 2 { // the second round must be a no-op
			if err := db.Migrate(ctx, d, serviceMigrations, "widget_migrations"); err != nil {
				t.Fatalf("Migrate widgets: %v", err)
			}
			if err := db.Migrate(ctx, d, otherMigrations, "gadget_migrations"); err != nil {
				t.Fatalf("Migrate gadgets: %v", err)
			}
		}
		if got := maxVersion(t, d, "widget_migrations"); got != 2 {
			t.Errorf("widget_migrations version = %d, want 2", got)
		}
		if got := maxVersion(t, d, "gadget_migrations"); got != 1 {
			t.Errorf("gadget_migrations version = %d, want 1", got)
		}
		if _, err := d.ExecContext(ctx, d.Rebind("INSERT INTO widgets (id, name, color) VALUES (?, ?, ?)"), 1, "a", "red"); err != nil {
			t.Fatalf("insert after migrate: %v", err)
		}
	})
}

func TestMigrateBrokenMigrationFails(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		d := dbtest.Open(t, dsn)
		broken := fstest.MapFS{"00001_broken.sql": {Data: []byte("-- +goose Up\nCREATE TABLEX nope;\n")}}
		if err := db.Migrate(t.Context(), d, broken, "broken_migrations"); err == nil {
			t.Fatal("Migrate succeeded with invalid SQL")
		}
	})
}

// TestMigrateConcurrentPostgres simulates several processes starting at once:
// each has its own pool, and every migration must be applied exactly once.
func TestMigrateConcurrentPostgres(t *testing.T) {
	t.Parallel()
	dsn := dbtest.NewPostgres(t)
	const processes = 3
	var wg sync.WaitGroup
	errs := make([]error, processes)
	for i := range processes {
		d := dbtest.Open(t, dsn)
		wg.Go(func() { errs[i] = db.Migrate(t.Context(), d, serviceMigrations, "widget_migrations") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("process %d: Migrate: %v", i, err)
		}
	}
	d := dbtest.Open(t, dsn)
	var applied int
	if err := d.GetContext(t.Context(), &applied, "SELECT COUNT(*) FROM widget_migrations WHERE version_id > 0"); err != nil {
		t.Fatal(err)
	}
	if applied != len(serviceMigrations) {
		t.Errorf("%d migrations recorded, want %d", applied, len(serviceMigrations))
	}
}

func TestInTx(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	tests := []struct {
		name      string
		fn        func(tx *sqlx.Tx) error
		panics    bool
		wantErr   error
		wantCount int
	}{
		{
			name:      "commit on nil",
			fn:        func(tx *sqlx.Tx) error { return insertWidget(tx, 1, "a") },
			wantCount: 1,
		},
		{
			name: "rollback on error",
			fn: func(tx *sqlx.Tx) error {
				if err := insertWidget(tx, 1, "a"); err != nil {
					return err
				}
				return errBoom
			},
			wantErr: errBoom,
		},
		{
			name: "rollback on panic",
			fn: func(tx *sqlx.Tx) error {
				if err := insertWidget(tx, 1, "a"); err != nil {
					return err
				}
				panic(errBoom)
			},
			panics: true,
		},
	}
	dbtest.Each(t, func(t *testing.T, dsn string) {
		d := dbtest.Open(t, dsn, migrateWidgets)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := d.ExecContext(t.Context(), "DELETE FROM widgets"); err != nil {
					t.Fatal(err)
				}
				var err error
				panicked := func() (p bool) {
					defer func() { p = recover() != nil }()
					err = db.InTx(t.Context(), d, tt.fn)
					return false
				}()
				if panicked != tt.panics {
					t.Fatalf("panicked = %v, want %v", panicked, tt.panics)
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var n int
				if err := d.GetContext(t.Context(), &n, "SELECT COUNT(*) FROM widgets"); err != nil {
					t.Fatal(err)
				}
				if n != tt.wantCount {
					t.Errorf("%d widgets, want %d", n, tt.wantCount)
				}
			})
		}
	})
}

func insertWidget(tx *sqlx.Tx, id int, name string) error {
	_, err := tx.Exec(tx.Rebind("INSERT INTO widgets (id, name) VALUES (?, ?)"), id, name)
	return err
}

func TestIsUniqueViolation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		d := dbtest.Open(t, dsn, migrateWidgets)
		insert := d.Rebind("INSERT INTO widgets (id, name) VALUES (?, ?)")
		if _, err := d.ExecContext(ctx, insert, 1, "a"); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			err  error
			want bool
		}{
			{"unique column", execErr(ctx, d, insert, 2, "a"), true},
			{"primary key", execErr(ctx, d, insert, 1, "b"), true},
			{"wrapped", fmt.Errorf("create widget: %w", execErr(ctx, d, insert, 1, "a")), true},
			{"not null", execErr(ctx, d, insert, 3, nil), false},
			{"syntax", execErr(ctx, d, "INSERT INTO nope"), false},
			{"nil", nil, false},
		}
		for _, tt := range tests {
			if got := db.IsUniqueViolation(tt.err); got != tt.want {
				t.Errorf("%s: IsUniqueViolation(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
			}
		}
	})
}

func execErr(ctx context.Context, d *sqlx.DB, query string, args ...any) error {
	_, err := d.ExecContext(ctx, query, args...)
	return err
}

// TestSQLiteConcurrentWriters checks that read-then-write transactions from
// many goroutines queue on the write lock instead of failing with
// SQLITE_BUSY.
func TestSQLiteConcurrentWriters(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, dbtest.NewSQLite(t), migrateWidgets)
	const writers, perWriter = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				errs <- db.InTx(t.Context(), d, func(tx *sqlx.Tx) error {
					var n int
					if err := tx.Get(&n, "SELECT COUNT(*) FROM widgets"); err != nil {
						return err
					}
					return insertWidget(tx, w*perWriter+i, fmt.Sprintf("w%d-%d-%d", w, i, n))
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	var n int
	if err := d.GetContext(t.Context(), &n, "SELECT COUNT(*) FROM widgets"); err != nil {
		t.Fatal(err)
	}
	if n != writers*perWriter {
		t.Errorf("%d rows, want %d", n, writers*perWriter)
	}
}

// TestPostgresPoolKeepsBurstConnections: the connections a burst of
// concurrent queries opened are all kept for the next burst, not closed
// and reopened (a new PostgreSQL backend each time).
func TestPostgresPoolKeepsBurstConnections(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, dbtest.NewPostgres(t))
	const burst = 16
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range burst {
		wg.Go(func() {
			<-start
			if _, err := d.ExecContext(t.Context(), "SELECT pg_sleep(0.05)"); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	st := d.Stats()
	if st.OpenConnections != burst || st.Idle != burst {
		t.Errorf("after a burst of %d: %d connections open, %d idle; want all kept", burst, st.OpenConnections, st.Idle)
	}
	if st.MaxIdleClosed != 0 {
		t.Errorf("%d connections closed for the idle limit, want none", st.MaxIdleClosed)
	}
}
