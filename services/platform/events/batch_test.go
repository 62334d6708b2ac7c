package events_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// TestPublishBatch: events written by PublishBatch (more than one INSERT's
// worth) are relayed like Publish's, in order, with their ids and types.
func TestPublishBatch(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.ensureStream(t)
		const n = 1203
		msgs := make([]*wrapperspb.StringValue, n)
		for i := range msgs {
			msgs[i] = wrapperspb.String(fmt.Sprint(i))
		}
		var ids []string
		if err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
			var err error
			ids, err = events.PublishBatch(ctx, tx, e.subject("Paid"), msgs)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(ids) != n {
			t.Fatalf("%d ids, want %d", len(ids), n)
		}
		r := e.startRelay(t, events.WithPollInterval(time.Hour))
		r.Notify()
		testkit.Eventually(t, "all rows published", func() bool {
			return count(t, e.db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL") == n
		})
		for _, i := range []int{0, 999, 1000, n - 1} {
			msg, got := e.streamMsg(t, e.stream.Name, i+1)
			if got != fmt.Sprint(i) || msg.Header.Get(events.HeaderEventID) != ids[i] ||
				msg.Header.Get(jetstream.MsgIDHeader) != ids[i] || msg.Header.Get(events.HeaderEventType) != "google.protobuf.StringValue" {
				t.Fatalf("message %d: %q %v", i+1, got, msg.Header)
			}
		}
	})
}
