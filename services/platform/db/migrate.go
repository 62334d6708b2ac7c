package db

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"sync"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// sqliteMigrateMu serializes migrations of SQLite databases within this
// process. goose has no cross-connection lock for SQLite, and in the
// single-process deployment several services may migrate the same file at
// start-up; without this their "is the version table there yet?" checks
// could race.
var sqliteMigrateMu sync.Mutex

// Embedded is the directory dir of a file system compiled into the binary
// (go:embed), such as a store's migrations. The directory is there unless
// the build is broken, so its absence panics.
func Embedded(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(fmt.Sprintf("embedded %s: %v", dir, err))
	}
	return sub
}

// Migrate applies the goose SQL migrations found at the root of fsys (files
// such as 00001_init.sql with "-- +goose Up" / "-- +goose Down" sections)
// and records them in versionTable. Giving every owner of tables its own
// version table lets the platform's tables and each service's tables be
// migrated independently within one database.
//
// On PostgreSQL the run holds a session-level advisory lock derived from
// versionTable, so two processes starting at once apply each migration
// exactly once, while migrations recorded in different version tables do
// not wait for each other.
func Migrate(ctx context.Context, d *sqlx.DB, fsys fs.FS, versionTable string) error {
	dialect := Dialect(d)
	opts := []goose.ProviderOption{
		// Go migrations registered globally by other packages must not leak
		// into this table's history.
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.Default().With("component", "migrate", "version_table", versionTable)),
	}

	var gooseDialect database.Dialect
	switch dialect {
	case DialectPostgres:
		gooseDialect = database.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(advisoryLockID(versionTable)),
			// Poll every second (the minimum) rather than goose's default of
			// five, so a second process starting at the same time is not
			// needlessly delayed; give up after ten minutes.
			lock.WithLockTimeout(1, 600),
			lock.WithUnlockTimeout(1, 60),
		)
		if err != nil {
			return fmt.Errorf("migrate %s: create session locker: %w", versionTable, err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case DialectSQLite:
		gooseDialect = database.DialectSQLite3
		sqliteMigrateMu.Lock()
		defer sqliteMigrateMu.Unlock()
	default:
		return fmt.Errorf("migrate %s: unsupported dialect %q", versionTable, dialect)
	}

	store, err := database.NewStore(gooseDialect, versionTable)
	if err != nil {
		return fmt.Errorf("migrate %s: create goose store: %w", versionTable, err)
	}
	opts = append(opts, goose.WithStore(store))

	provider, err := goose.NewProvider(goose.DialectCustom, d.DB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", versionTable, err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", versionTable, err)
	}
	return nil
}

// advisoryLockID maps a version table name to a PostgreSQL advisory lock
// key, so each version table gets its own migration lock.
func advisoryLockID(versionTable string) int64 {
	h := fnv.New64a()
	h.Write([]byte("goose:" + versionTable))
	return int64(h.Sum64())
}
