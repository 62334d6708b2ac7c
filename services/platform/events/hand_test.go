package events_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// TestRelayHand: events handed to the relay after their commit are
// published without a poll (the poll interval here is an hour), in the
// order handed, each once, and marked published in the outbox. Events
// staged in a transaction that rolled back are never handed, and nothing
// of them reaches the stream.
func TestRelayHand(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.ensureStream(t)
		// The relay polls once at start, with the outbox empty, and then not
		// within the test.
		r := e.startRelay(t, events.WithPollInterval(time.Hour))

		const n = 250 // more than one batch of 100
		var handed []events.Outgoing
		for i := range n {
			var ev events.Outgoing
			err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
				var err error
				ev, err = events.Stage(ctx, tx, e.subject("Thing"), wrapperspb.String(strconv.Itoa(i)))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			handed = append(handed, ev)
		}
		if err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
			if _, err := events.Stage(ctx, tx, e.subject("Thing"), wrapperspb.String("rolled back")); err != nil {
				return err
			}
			return errRollBack
		}); !errors.Is(err, errRollBack) {
			t.Fatalf("rolled-back unit: %v", err)
		}
		r.Hand(handed[:10]...)
		r.Hand(handed[10:]...)

		testkit.Eventually(t, "handed events in the stream", func() bool { return e.streamMsgs(t) >= n })
		testkit.Eventually(t, "handed events marked published", func() bool {
			return count(t, e.db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL") == n
		})
		if got := e.streamMsgs(t); got != n {
			t.Errorf("stream holds %d messages, want %d", got, n)
		}
		for i := range n {
			msg, value := e.streamMsg(t, e.stream.Name, i+1)
			if value != strconv.Itoa(i) || msg.Header.Get(events.HeaderEventID) != handed[i].ID() {
				t.Fatalf("stream message %d is %q (event %s), want %d (event %s)", i+1, value, msg.Header.Get(events.HeaderEventID), i, handed[i].ID())
			}
		}
		if got := count(t, e.db, "SELECT COUNT(*) FROM outbox"); got != n {
			t.Errorf("outbox holds %d rows, want %d (the rolled-back one is not there)", got, n)
		}
	})
}

var errRollBack = errors.New("roll back")
