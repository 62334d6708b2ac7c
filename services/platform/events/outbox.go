package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"google.golang.org/protobuf/proto"
)

// Publish writes msg to the outbox within tx, so the event is published if
// and only if tx commits. subject is the NATS subject, e.g.
// "tia.activity.ActivityRegistered"; it must be covered by the producer's
// Stream.
//
// The current trace context in ctx is stored with the event (via the global
// text map propagator) so the consumer's span joins the producer's trace.
// Publish returns the new event's id, a UUIDv7 string. Call Relay.Notify
// after the commit to relay the event without waiting for the next poll,
// or use Stage and Relay.Hand.
func Publish(ctx context.Context, tx *sqlx.Tx, subject string, msg proto.Message) (string, error) {
	ev, err := Stage(ctx, tx, subject, msg)
	return ev.ID(), err
}

// Outgoing is an event written to the outbox (Stage), as the relay sends
// it.
type Outgoing struct{ row outboxRow }

// ID is the event's id.
func (o Outgoing) ID() string { return o.row.ID }

// Stage is Publish, returning the event for Relay.Hand: handed to the relay
// after the commit, it is published at once, without the relay reading it
// back from the outbox.
func Stage(ctx context.Context, tx *sqlx.Tx, subject string, msg proto.Message) (Outgoing, error) {
	if err := validateSubject(subject); err != nil {
		return Outgoing{}, err
	}
	row, err := newRow(subject, traceOf(ctx), msg)
	if err != nil {
		return Outgoing{}, err
	}
	const insert = `INSERT INTO outbox (id, subject, type, payload, headers) VALUES (?, ?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(insert), row.ID, row.Subject, row.Type, row.Payload, row.Headers); err != nil {
		return Outgoing{}, fmt.Errorf("publish %s: insert into outbox: %w", subject, err)
	}
	return Outgoing{row}, nil
}

// publishBatchRows bounds the rows of one multi-row INSERT on SQLite (5
// parameters each, well below the driver's parameter limit).
const publishBatchRows = 1000

// PublishBatch is Publish for many events on one subject: the same outbox
// rows, written with one INSERT of arrays on PostgreSQL and multi-row
// INSERTs on SQLite instead of one statement per event, for producers that
// publish thousands of events in one transaction (a payment run). It
// returns the events' ids in the order of msgs (the relay's order).
func PublishBatch[M proto.Message](ctx context.Context, tx *sqlx.Tx, subject string, msgs []M) ([]string, error) {
	if err := validateSubject(subject); err != nil {
		return nil, err
	}
	trace := traceOf(ctx)
	rows := make([]outboxRow, len(msgs))
	ids := make([]string, len(msgs))
	for i, msg := range msgs {
		row, err := newRow(subject, trace, msg)
		if err != nil {
			return nil, err
		}
		rows[i], ids[i] = row, row.ID
	}
	if len(msgs) == 0 {
		return ids, nil
	}
	if sqlx.BindType(tx.DriverName()) == sqlx.DOLLAR {
		// PostgreSQL: one insert of four arrays, however many events,
		// instead of five parameters per event to bind and plan.
		types, payloads, headers := make([]string, len(rows)), make([][]byte, len(rows)), make([]string, len(rows))
		for i, r := range rows {
			types[i], payloads[i], headers[i] = r.Type, r.Payload, r.Headers
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, subject, type, payload, headers)
			SELECT id, $2, type, payload, headers FROM unnest($1::text[], $3::text[], $4::bytea[], $5::text[]) AS e (id, type, payload, headers)`,
			ids, subject, types, payloads, headers); err != nil {
			return nil, fmt.Errorf("publish %s: insert into outbox: %w", subject, err)
		}
		return ids, nil
	}
	for start := 0; start < len(rows); start += publishBatchRows {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO outbox (id, subject, type, payload, headers)
			VALUES (:id, :subject, :type, :payload, :headers)`, rows[start:min(start+publishBatchRows, len(rows))]); err != nil {
			return nil, fmt.Errorf("publish %s: insert into outbox: %w", subject, err)
		}
	}
	return ids, nil
}

// traceOf is the trace context of ctx as message headers (the global text
// map propagator's), which every event published in ctx carries.
func traceOf(ctx context.Context) nats.Header {
	h := nats.Header{}
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(h))
	return h
}

// newRow is the outbox row of msg on subject: its payload, a new UUIDv7
// event id, and the trace context with the event's id and type as headers.
func newRow(subject string, trace nats.Header, msg proto.Message) (outboxRow, error) {
	typ := string(msg.ProtoReflect().Descriptor().FullName())
	payload, err := proto.Marshal(msg)
	if err != nil {
		return outboxRow{}, fmt.Errorf("publish %s: marshal %s: %w", subject, typ, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return outboxRow{}, fmt.Errorf("publish %s: generate event id: %w", subject, err)
	}
	header := make(nats.Header, len(trace)+2)
	for k, v := range trace {
		header[k] = v
	}
	header.Set(HeaderEventID, id.String())
	header.Set(HeaderEventType, typ)
	headerJSON, err := json.Marshal(header)
	if err != nil {
		return outboxRow{}, fmt.Errorf("publish %s: encode headers: %w", subject, err)
	}
	return outboxRow{ID: id.String(), Subject: subject, Type: typ, Payload: payload, Headers: string(headerJSON)}, nil
}

// validateSubject rejects subjects JetStream would refuse, so the mistake
// surfaces in the producer's transaction instead of as a relay retrying the
// row forever.
func validateSubject(subject string) error {
	if subject == "" {
		return fmt.Errorf("publish: empty subject")
	}
	for token := range strings.SplitSeq(subject, ".") {
		if token == "" || token == "*" || token == ">" || strings.ContainsAny(token, " \t\r\n") {
			return fmt.Errorf("publish: invalid subject %q (want dot-separated tokens without wildcards or whitespace)", subject)
		}
	}
	return nil
}

// Publishing returns a step that publishes msg within the transaction it is
// given, for stores whose write methods take a func(*sqlx.Tx) error to run
// alongside their own statements.
func Publishing(ctx context.Context, subject string, msg proto.Message) func(*sqlx.Tx) error {
	return func(tx *sqlx.Tx) error {
		_, err := Publish(ctx, tx, subject, msg)
		return err
	}
}
