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
	trace := nats.Header{}
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(trace))
	ids := make([]string, len(msgs))
	types := make([]string, len(msgs))
	payloads := make([][]byte, len(msgs))
	headers := make([]string, len(msgs))
	for i, msg := range msgs {
		typ := string(msg.ProtoReflect().Descriptor().FullName())
		payload, err := proto.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("publish %s: marshal %s: %w", subject, typ, err)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("publish %s: generate event id: %w", subject, err)
		}
		header := make(nats.Header, len(trace)+2)
		for k, v := range trace {
			header[k] = v
		}
		header.Set(HeaderEventID, id.String())
		header.Set(HeaderEventType, typ)
		headerJSON, err := json.Marshal(header)
		if err != nil {
			return nil, fmt.Errorf("publish %s: encode headers: %w", subject, err)
		}
		ids[i], types[i], payloads[i], headers[i] = id.String(), typ, payload, string(headerJSON)
	}
	if len(msgs) == 0 {
		return ids, nil
	}
	if sqlx.BindType(tx.DriverName()) == sqlx.DOLLAR {
		// PostgreSQL: one insert of four arrays, however many events,
		// instead of five parameters per event to bind and plan.
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, subject, type, payload, headers)
			SELECT id, $2, type, payload, headers FROM unnest($1::text[], $3::text[], $4::bytea[], $5::text[]) AS e (id, type, payload, headers)`,
			ids, subject, types, payloads, headers); err != nil {
			return nil, fmt.Errorf("publish %s: insert into outbox: %w", subject, err)
		}
		return ids, nil
	}
	for start := 0; start < len(msgs); start += publishBatchRows {
		end := min(start+publishBatchRows, len(msgs))
		var b strings.Builder
		b.WriteString("INSERT INTO outbox (id, subject, type, payload, headers) VALUES ")
		args := make([]any, 0, 5*(end-start))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, ids[i], subject, types[i], payloads[i], headers[i])
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(b.String()), args...); err != nil {
			return nil, fmt.Errorf("publish %s: insert into outbox: %w", subject, err)
		}
	}
	return ids, nil
}
