// Package db opens the platform's SQL databases (PostgreSQL in production,
// SQLite for the single-process default), applies goose migrations and
// provides the small transaction and error helpers every service needs so
// that service code can stay dialect-agnostic.
//
// Queries elsewhere are written with "?" placeholders and passed through
// (*sqlx.DB).Rebind, which is why this package registers the bind type of
// the "sqlite" driver with sqlx.
package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names returned by Dialect.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Driver names as registered with database/sql.
const (
	driverPgx    = "pgx"
	driverSQLite = "sqlite"
)

func init() {
	// sqlx knows "sqlite3" (mattn) but not modernc's "sqlite"; without this,
	// Rebind would leave "?" untouched only by accident (UNKNOWN) and
	// BindNamed would fail.
	sqlx.BindDriver(driverSQLite, sqlx.QUESTION)
}

// sqlitePragmas are applied by modernc.org/sqlite to every new connection.
//
//   - WAL lets readers proceed while one writer commits.
//   - busy_timeout makes a connection wait (instead of failing with
//     SQLITE_BUSY) while another connection holds the write lock.
//   - foreign_keys is off by default in SQLite; we want the same integrity
//     guarantees as on PostgreSQL.
//   - synchronous=NORMAL is durable across application crashes in WAL mode
//     and avoids an fsync per commit.
var sqlitePragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"foreign_keys(1)",
	"synchronous(NORMAL)",
}

// postgresMaxOpenConns bounds a service's PostgreSQL pool.
const postgresMaxOpenConns = 20

// sqliteMaxOpenConns bounds the SQLite pool. WAL allows many concurrent
// readers; writers serialize on the database lock regardless, so more
// connections would only add lock waiting.
const sqliteMaxOpenConns = 8

// Open opens a database from a DSN and pings it before returning.
//
// "postgres://..." and "postgresql://..." use the pgx database/sql driver.
// "sqlite:<path>" and "file:<path>" use modernc.org/sqlite with WAL,
// busy_timeout(10000), foreign keys on and _txlock=immediate. Immediate
// transactions take the write lock at BEGIN, so two concurrent read-then-write
// transactions queue on busy_timeout instead of one of them failing with
// SQLITE_BUSY when it tries to upgrade its read lock.
func Open(ctx context.Context, dsn string) (*sqlx.DB, error) {
	var (
		d   *sqlx.DB
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d, err = sqlx.Open(driverPgx, dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		d.SetMaxOpenConns(postgresMaxOpenConns)
		// Every connection a burst opened stays for the next one: with
		// fewer idle ones kept, a service under steady load closes and
		// reopens PostgreSQL connections all the time (a new backend
		// process each), which cost the production path half its rate and
		// a p99 of a quarter second in tia-bench.
		d.SetMaxIdleConns(postgresMaxOpenConns)
		d.SetConnMaxIdleTime(5 * time.Minute)
		d.SetConnMaxLifetime(time.Hour)
	case strings.HasPrefix(dsn, "sqlite:"), strings.HasPrefix(dsn, "file:"):
		path, inMemory, err := sqliteDSN(dsn)
		if err != nil {
			return nil, err
		}
		d, err = sqlx.Open(driverSQLite, path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		if inMemory {
			// Every connection to ":memory:" is a separate, empty database.
			d.SetMaxOpenConns(1)
		} else {
			d.SetMaxOpenConns(sqliteMaxOpenConns)
		}
		// Keep connections open: closing the last one of a WAL database
		// checkpoints and deletes the WAL, and reopening re-runs the pragmas.
		d.SetMaxIdleConns(sqliteMaxOpenConns)
		d.SetConnMaxIdleTime(0)
		d.SetConnMaxLifetime(0)
	default:
		return nil, fmt.Errorf("open database: unsupported DSN scheme in %q (want postgres://, postgresql://, sqlite: or file:)", redact(dsn))
	}

	if err := d.PingContext(ctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("ping %s database: %w", Dialect(d), err)
	}
	return d, nil
}

// sqliteDSN turns "sqlite:<path>[?params]" or "file:<path>[?params]" into a
// modernc.org/sqlite DSN carrying our pragmas. Parameters given by the
// caller are kept; our defaults are only added for keys the caller did not
// set.
func sqliteDSN(dsn string) (string, bool, error) {
	rest := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	path, rawQuery, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", false, fmt.Errorf("open sqlite: empty path in DSN %q", dsn)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", false, fmt.Errorf("open sqlite: parse DSN parameters: %w", err)
	}
	if len(q["_pragma"]) == 0 {
		q["_pragma"] = sqlitePragmas
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	if q.Get("_time_format") == "" {
		// Store time.Time as "2006-01-02 15:04:05.999999999-07:00", which
		// SQLite's date functions understand, instead of time.Time.String().
		q.Set("_time_format", "sqlite")
	}
	inMemory := path == ":memory:" || q.Get("mode") == "memory"
	return "file:" + path + "?" + q.Encode(), inMemory, nil
}

// redact removes the password from a URL-style DSN so it can go into an
// error message.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}

// Dialect reports DialectPostgres or DialectSQLite for a database opened by
// Open (or a transaction on one), so callers can pick dialect-specific SQL
// or migrations.
func Dialect(d interface{ DriverName() string }) string {
	switch d.DriverName() {
	case driverPgx:
		return DialectPostgres
	case driverSQLite:
		return DialectSQLite
	default:
		return d.DriverName()
	}
}

// InTx runs fn in a transaction. It commits if fn returns nil and rolls
// back otherwise. If fn panics, the transaction is rolled back and the panic
// is propagated, so a panicking handler never leaves a transaction (and, on
// SQLite, the write lock) open.
func InTx(ctx context.Context, d *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	tx, err := d.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		// Rollback errors are secondary: the original error (or panic) is
		// what the caller needs to see.
		_ = tx.Rollback()
	}()

	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	committed = true
	return nil
}

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint violation on either driver, so callers can map it to an
// "already exists" error without knowing the dialect.
func IsUniqueViolation(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "23505" // unique_violation
	}
	if sqliteErr, ok := errors.AsType[*sqlite.Error](err); ok {
		switch sqliteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}
