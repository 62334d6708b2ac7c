// Package events moves domain events between services reliably:
//
//  1. A producer calls Publish inside the transaction that changes its
//     state, which writes the event to the outbox table. The event exists
//     if and only if the state change committed.
//  2. A Relay copies committed outbox rows to NATS JetStream, using the
//     event id as the JetStream message id so that a re-publish after a
//     crash is dropped by the stream's duplicate window.
//  3. A Consumer applies each event in a transaction that also records the
//     event id in processed_events, so an event that JetStream delivers more
//     than once is applied exactly once.
//
// Events are protobuf messages. The W3C trace context of the producing
// request travels with the event (outbox headers, then NATS headers), so a
// consumer's work shows up in the producer's trace.
package events

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"

	"github.com/tia-platform/tia/services/platform/db"
)

// Headers set on every event, in the outbox and on the wire.
const (
	// HeaderEventID carries the event id (a UUIDv7 string).
	HeaderEventID = "Tia-Event-Id"
	// HeaderEventType carries the protobuf full name of the payload.
	HeaderEventType = "Tia-Event-Type"
)

// instrumentationName identifies this package's spans.
const instrumentationName = "github.com/tia-platform/tia/services/platform/events"

// versionTable records the platform tables' migrations, separately from
// each service's own version table.
const versionTable = "platform_migrations"

// migrationFiles holds one directory of goose migrations per dialect.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// Migrations returns the goose migrations of the platform tables (outbox and
// processed_events) for a dialect as returned by db.Dialect ("postgres" or
// "sqlite"). For any other dialect the returned file system is empty, which
// db.Migrate reports as an error.
func Migrations(dialect string) fs.FS {
	switch dialect {
	case db.DialectPostgres, db.DialectSQLite:
		return db.Embedded(migrationFiles, "migrations/"+dialect)
	default:
		return emptyFS{}
	}
}

// Migrate applies the platform tables' migrations to d, recording them in
// the "platform_migrations" version table.
func Migrate(ctx context.Context, d *sqlx.DB) error {
	if err := db.Migrate(ctx, d, Migrations(db.Dialect(d)), versionTable); err != nil {
		return fmt.Errorf("migrate platform tables: %w", err)
	}
	return nil
}

// emptyFS is a file system without files.
type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Event is what a consumer's Handler receives.
type Event struct {
	// ID is the producer-assigned event id; it is unique per event and
	// stable across redeliveries.
	ID string
	// Subject is the NATS subject the event was published on.
	Subject string
	// Type is the protobuf full name of the payload.
	Type string
	// Payload is the protobuf wire encoding of the event.
	Payload []byte
	// Header holds all message headers, including the trace context.
	Header nats.Header
}

// Decode unmarshals the payload into m. It fails if the event carries a type
// and that type is not m's, so a handler cannot silently misread an event
// published on an unexpected subject.
func (e Event) Decode(m proto.Message) error {
	want := string(m.ProtoReflect().Descriptor().FullName())
	if e.Type != "" && e.Type != want {
		return fmt.Errorf("decode event %s: type is %s, not %s", e.ID, e.Type, want)
	}
	if err := proto.Unmarshal(e.Payload, m); err != nil {
		return fmt.Errorf("decode event %s as %s: %w", e.ID, want, err)
	}
	return nil
}

// headerCarrier adapts nats.Header to propagation.TextMapCarrier. It is
// needed because propagation.HeaderCarrier canonicalizes keys the way
// net/http does, while nats.Header keys are case-sensitive; using the keys
// verbatim keeps "traceparent" readable by any W3C-aware NATS client.
type headerCarrier nats.Header

var _ propagation.TextMapCarrier = headerCarrier(nil)

func (c headerCarrier) Get(key string) string { return nats.Header(c).Get(key) }

func (c headerCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }

func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
