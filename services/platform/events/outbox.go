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
	typ := string(msg.ProtoReflect().Descriptor().FullName())
	payload, err := proto.Marshal(msg)
	if err != nil {
		return Outgoing{}, fmt.Errorf("publish %s: marshal %s: %w", subject, typ, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Outgoing{}, fmt.Errorf("publish %s: generate event id: %w", subject, err)
	}

	header := nats.Header{}
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(header))
	header.Set(HeaderEventID, id.String())
	header.Set(HeaderEventType, typ)
	headerJSON, err := json.Marshal(header)
	if err != nil {
		return Outgoing{}, fmt.Errorf("publish %s: encode headers: %w", subject, err)
	}

	row := outboxRow{ID: id.String(), Subject: subject, Type: typ, Payload: payload, Headers: string(headerJSON)}
	const insert = `INSERT INTO outbox (id, subject, type, payload, headers) VALUES (?, ?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(insert), row.ID, row.Subject, row.Type, row.Payload, row.Headers); err != nil {
		return Outgoing{}, fmt.Errorf("publish %s: insert into outbox: %w", subject, err)
	}
	return Outgoing{row}, nil
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
