// Package apptest builds a service for tests the way a host does, without
// NATS or a server, so that each service's handler tests share one fixture.
package apptest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/platform/uow"
)

// Key is a pseudonym key for tests that need no key of their own.
var Key = []byte("apptest-pseudonym-key-0123456789")

// Deps opens the database at dsn, applies the platform's tables and c's
// migrations as Host.Add does, and returns the dependencies for c.New: the
// database, a relay that is never run (published events stay in the outbox,
// where a test can read them), and the default logger. The database is
// closed when the test ends.
func Deps(t testing.TB, c app.Component, dsn string) app.Deps {
	t.Helper()
	return open(t, c, dsn, events.Migrate)
}

// HostDeps is Deps with the rest of what Host.Add gives a component: the
// request-id and audit tables, pseudonyms under key, the audit trail, and
// the unit-of-work runner that saves rows, events and audit entries
// together.
func HostDeps(t testing.TB, c app.Component, dsn string, key []byte) app.Deps {
	t.Helper()
	deps := open(t, c, dsn, events.Migrate, uow.Migrate, audit.Migrate)
	k, err := pseudonym.New(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	deps.Pseudonyms = k
	deps.Audit = audit.New(deps.DB, k)
	deps.Units = uow.New(deps.DB, deps.Relay, deps.Audit)
	return deps
}

// open opens the database at dsn and applies the platform tables' and then
// c's migrations, in Host.Add's order.
func open(t testing.TB, c app.Component, dsn string, platform ...func(context.Context, *sqlx.DB) error) app.Deps {
	t.Helper()
	d := dbtest.Open(t, dsn, platform...)
	if err := db.Migrate(context.Background(), d, c.Migrations, c.Name+"_migrations"); err != nil {
		t.Fatal(err)
	}
	return app.Deps{DB: d, Relay: events.NewRelay(d, nil), Logger: slog.Default()}
}
