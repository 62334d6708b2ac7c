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

// publishBatchRows bounds the rows of one multi-row INSERT (5 parameters
// each, well below both drivers' parameter limits).
const publishBatchRows = 1000

// PublishBatch is Publish for many events on one subject: the same outbox
// rows, written with multi-row INSERTs instead of one statement per event,
// for producers that publish thousands of events in one transaction (a
// payment run). It returns the events' ids in the order of msgs.
func PublishBatch[M proto.Message](ctx context.Context, tx *sqlx.Tx, subject string, msgs []M) ([]string, error) {
	if err := validateSubject(subject); err != nil {
		return nil, err
	}
	trace := nats.Header{}
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(trace))
	ids := make([]string, 0, len(msgs))
	for start := 0; start < len(msgs); start += publishBatchRows {
		chunk := msgs[start:min(start+publishBatchRows, len(msgs))]
		var b strings.Builder
		b.WriteString("INSERT INTO outbox (id, subject, type, payload, headers) VALUES ")
		args := make([]any, 0, 5*len(chunk))
		for i, msg := range chunk {
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
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, id.String(), subject, typ, payload, string(headerJSON))
			ids = append(ids, id.String())
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(b.String()), args...); err != nil {
			return nil, fmt.Errorf("publish %s: insert into outbox: %w", subject, err)
		}
	}
	return ids, nil
}
