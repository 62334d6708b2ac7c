// Package dbtest provides throw-away databases for tests of packages that
// use package db, so every test runs against a real, empty PostgreSQL
// database or SQLite file and tests never see each other's rows.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
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
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("dbtest: parse %s: %v", EnvPostgresDSN, err)
	}

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("dbtest: open postgres: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name := "test_" + randomSuffix()
	// The name is generated from hex digits only, so interpolating it is safe.
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("dbtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// FORCE terminates connections the code under test may have leaked
		// (PostgreSQL 13+).
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})

	u.Path = "/" + name
	return u.String()
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

// randomSuffix returns lower-case hex, which PostgreSQL accepts unquoted
// and does not case-fold, so the name in the DSN matches the created one.
func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails; see crypto/rand.Read
	return hex.EncodeToString(b[:])
}
