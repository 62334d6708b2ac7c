// Package apptest builds a service for tests the way a host does, without
// NATS or a server, so that each service's handler tests share one fixture.
package apptest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
)

// Deps opens the database at dsn, applies the platform's tables and c's
// migrations as Host.Add does, and returns the dependencies for c.New: the
// database, a relay that is never run (published events stay in the outbox,
// where a test can read them), and the default logger. The database is
// closed when the test ends.
func Deps(t testing.TB, c app.Component, dsn string) app.Deps {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := events.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, d, c.Migrations, c.Name+"_migrations"); err != nil {
		t.Fatal(err)
	}
	return app.Deps{DB: d, Relay: events.NewRelay(d, nil), Logger: slog.Default()}
}
