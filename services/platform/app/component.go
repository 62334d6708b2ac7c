// Package app hosts TIA services. A service is written once as a Component;
// app runs it alone in its own binary (production: PostgreSQL, a NATS
// cluster, one process per service) or together with the others in one
// process (the embedded default: SQLite files and an embedded NATS server).
// The same code and the same tests serve both, in the manner of a modular
// monolith.
package app

import (
	"context"
	"io/fs"
	"log/slog"

	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/platform/uow"
)

// Component describes one service to the host.
type Component struct {
	// Name is the service's short name: "activity", "statistics", "travel",
	// "notification". It names its database file, its event stream
	// (tia.<name>.>) and its durable consumers.
	Name string
	// Migrations are the service's own tables (goose SQL files at the root).
	Migrations fs.FS
	// New builds the service once its dependencies are ready.
	New func(Deps) (Service, error)
	// Errors maps the service's typed and sentinel errors to gRPC codes:
	// the one table through which every method's errors pass (the shared
	// kinds of package apierr, unreachable dependencies and the rest are
	// classified there for every service alike).
	Errors []apierr.Rule
	// Config, when set, returns a new zero value of the service's own
	// settings. The host registers its flags (on the binary's command line;
	// each also read from its TIA_* variable), parses and validates them
	// before New, and passes the result in Deps.Config.
	Config func() config.Settings
}

// Deps are what the host gives a service.
type Deps struct {
	// DB is the service's own database, already migrated.
	DB *sqlx.DB
	// Relay publishes what the service writes to its outbox; call Notify
	// after a commit that published events so they leave at once.
	Relay *events.Relay
	// Logger is tagged with the service name.
	Logger *slog.Logger
	// Peer returns a connection to another service by name (for questions
	// that need an answer now).
	Peer func(name string) (grpc.ClientConnInterface, error)
	// Units saves changes: rows, events and audit entries in one
	// transaction (package uow), with client request ids honoured.
	Units *uow.Runner
	// Audit is the service's trail of reads and changes of personal data.
	Audit *audit.Trail
	// Pseudonyms derives the keyed ids that stand for dossier numbers.
	Pseudonyms *pseudonym.Keyer
	// Clock tells the time; "today" is clock.Day of it (Europe/Stockholm).
	Clock clock.Clock
	// Config is the service's own settings (Component.Config), parsed and
	// validated; nil when the component declares none or when a test
	// builds the service without a host.
	Config config.Settings
}

// Service is a running service.
type Service interface {
	// Register adds the service's gRPC APIs.
	Register(grpc.ServiceRegistrar)
	// Subscriptions are the events the service consumes.
	Subscriptions() []Subscription
}

// Runner is implemented by services that have background work of their own
// (scheduled reports, retries, payment runs). The host runs it alongside the
// relay and the consumers and cancels its context on Close; Run should return
// nil then.
type Runner interface {
	Run(ctx context.Context) error
}

// Subscription is one durable consumer of another service's events.
type Subscription struct {
	// Producer is the service whose stream is read, e.g. "activity".
	Producer string
	// Subjects filter the stream; all of it when empty.
	Subjects []string
	// Handler applies an event inside the consumer's transaction.
	Handler events.Handler
	// Concurrency lets that many events be applied at once (default 1,
	// in stream order); see events.WithConcurrency.
	Concurrency int
	// Batch lets each of those appliers commit up to that many waiting
	// events in one transaction (default 1); see events.WithBatch.
	Batch int
}

// Background work (relays, consumers) runs under this context type so tests
// can stop a host cleanly.
type runFunc func(ctx context.Context) error
