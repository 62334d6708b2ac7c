// Package dbtest provides throw-away databases for tests of packages that
// use package db, so every test runs against a real, empty PostgreSQL
// database or SQLite file and tests never see each other's rows.
package dbtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/db"
)

// EnvPostgresDSN names the environment variable holding the DSN of the
// PostgreSQL server used by tests. The database it names is only used to
// issue CREATE/DROP DATABASE.
const EnvPostgresDSN = "TIA_TEST_POSTGRES_DSN"

// DefaultPostgresDSN is used when EnvPostgresDSN is not set.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// NewPostgres creates a fresh PostgreSQL database with a unique name and
// returns its DSN. The database is dropped when the test finishes. The test
// fails if the server is unreachable: these tests are meant to exercise the
// real database.
func NewPostgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgresDSN)
	if base == "" {
		base = DefaultPostgresDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dsn, drop, err := db.CreateDatabase(ctx, base, "test_")
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	return dsn
}

// NewSQLite returns a DSN for a new SQLite database file in t.TempDir().
func NewSQLite(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
}

// Each runs fn once per supported dialect, as subtests "sqlite" and
// "postgres", each with a DSN for a fresh database.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, NewSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, NewPostgres(t)) })
}

// Open opens the database at dsn, closed when the test ends, and applies
// migrate in order (such as events.Migrate).
func Open(t testing.TB, dsn string, migrate ...func(context.Context, *sqlx.DB) error) *sqlx.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("dbtest: open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	for _, m := range migrate {
		if err := m(ctx, d); err != nil {
			t.Fatalf("dbtest: migrate: %v", err)
		}
	}
	return d
}
