package events_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/testkit"
)

var batchSize = 8

// batchConsumer returns a consumer that applies up to 8 waiting events per
// transaction with 2 appliers.
func (e *env) batchConsumer(t *testing.T, name string, h events.Handler) *events.Consumer {
	t.Helper()
	return events.NewConsumer(e.db, e.js, name, e.stream, nil, h,
		events.WithConcurrency(2), events.WithBatch(batchSize),
		events.WithNakDelay(10*time.Millisecond, 50*time.Millisecond), events.WithConsumerLogger(testLogger(t)))
}

// holdFirst returns what a test's handler calls first: the calls wait
// until 300 ms after the first one, and later calls pass at once. While
// the appliers wait, the subscription queues the events it delivers
// behind them, so they then take several at a time: batches form however
// the machine schedules the delivery and the appliers.
func holdFirst() func() {
	var once sync.Once
	open := make(chan struct{})
	return func() {
		once.Do(func() { time.AfterFunc(300*time.Millisecond, func() { close(open) }) })
		<-open
	}
}

// backlog creates the table applied and the stream, and puts n events in
// the outbox (publishThings).
func (e *env) backlog(t *testing.T, n int) []string {
	t.Helper()
	e.createApplied(t)
	e.ensureStream(t)
	return e.publishThings(t, n)
}

// consumeBacklog relays the n events in the outbox to the stream first (a
// backlog makes batches), then runs a batch consumer named name with h
// until the table applied has n rows and every event is acked. stop ends
// the consumer.
func (e *env) consumeBacklog(t *testing.T, name string, h events.Handler, n int) (stop func()) {
	t.Helper()
	e.startRelay(t).Notify()
	testkit.Eventually(t, "relay publish", func() bool { return e.streamMsgs(t) == uint64(n) })
	stop = runUntil(t, e.batchConsumer(t, name, h))
	testkit.Eventually(t, "all applied", func() bool { return count(t, e.db, "SELECT COUNT(*) FROM applied") == n })
	testkit.Eventually(t, "all acked", func() bool { return e.pending(t, name) == 0 })
	return stop
}

// runUntil runs c until stop is called, which waits for Run to return.
func runUntil(t *testing.T, c *events.Consumer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	}
}

// TestBatchConsumerAppliesEachEventOnce: with WithBatch, several events
// share a transaction, and each is still applied exactly once: events
// already in processed_events (committed, but the ack was lost) and a
// redelivery of the whole stream are acked without calling the handler.
func TestBatchConsumerAppliesEachEventOnce(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		var (
			mu       sync.Mutex
			perTx    = map[*sqlx.Tx]int{}
			handled  = map[string]int{}
			maxBatch int
			hold     = holdFirst()
		)
		handler := func(ctx context.Context, tx *sqlx.Tx, ev events.Event) error {
			hold()
			mu.Lock()
			perTx[tx]++
			maxBatch = max(maxBatch, perTx[tx])
			handled[ev.ID]++
			mu.Unlock()
			// A second application would violate the primary key.
			_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO applied (event_id) VALUES (?)"), ev.ID)
			return err
		}
		const n = 60
		ids := e.backlog(t, n)
		// Every third event was applied before (its effect and its
		// processed_events row committed together) but never acked.
		pre := 0
		for i := 0; i < n; i += 3 {
			if _, err := e.db.ExecContext(ctx, e.db.Rebind("INSERT INTO applied (event_id) VALUES (?)"), ids[i]); err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.ExecContext(ctx, e.db.Rebind("INSERT INTO processed_events (consumer, event_id) VALUES (?, ?)"), "batched", ids[i]); err != nil {
				t.Fatal(err)
			}
			pre++
		}
		e.consumeBacklog(t, "batched", handler, n)()

		// Redeliver the whole stream to the same consumer name.
		if err := e.js.DeleteConsumer(ctx, e.stream.Name, "batched"); err != nil {
			t.Fatal(err)
		}
		stop := runUntil(t, e.batchConsumer(t, "batched", handler))
		testkit.Eventually(t, "redelivery acked", func() bool { return e.pending(t, "batched") == 0 })
		stop()

		mu.Lock()
		defer mu.Unlock()
		for i, id := range ids {
			want := 1
			if i%3 == 0 {
				want = 0
			}
			if handled[id] != want {
				t.Errorf("event %d handled %d times, want %d", i, handled[id], want)
			}
		}
		if got := count(t, e.db, "SELECT COUNT(*) FROM processed_events WHERE consumer = 'batched'"); got != n {
			t.Errorf("processed_events has %d rows, want %d", got, n)
		}
		if maxBatch < 2 {
			t.Errorf("at most %d events per transaction, want batches", maxBatch)
		}
	})
}

// TestBatchConsumerFallsBackOneByOne: an event whose handler fails (or
// panics) rolls its batch back; the events of the batch are then applied
// one by one, so the others are applied once and only the failing event is
// redelivered, and applied once when it succeeds.
func TestBatchConsumerFallsBackOneByOne(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		const n = 40
		ids := e.backlog(t, n)
		// One event fails and one panics, each on its first delivery only:
		// a redelivery after a nak delay is what the single-event path
		// already covers.
		// The first event handled second in a transaction fails too, so a
		// batch is certainly rolled back.
		var failed, panicked, failedInBatch atomic.Bool
		var mu sync.Mutex
		calls := map[string]int{}
		perTx := map[*sqlx.Tx]int{}
		hold := holdFirst()
		handler := func(ctx context.Context, tx *sqlx.Tx, ev events.Event) error {
			hold()
			mu.Lock()
			calls[ev.ID]++
			perTx[tx]++
			inBatch := perTx[tx] > 1
			mu.Unlock()
			// Write first: a rolled-back batch that were committed anyway
			// would make the event's one-by-one retry violate the key.
			if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO applied (event_id) VALUES (?)"), ev.ID); err != nil {
				return err
			}
			if ev.ID == ids[17] && panicked.CompareAndSwap(false, true) {
				panic("poison")
			}
			if ev.ID == ids[3] && failed.CompareAndSwap(false, true) {
				return errors.New("transient failure")
			}
			if inBatch && failedInBatch.CompareAndSwap(false, true) {
				return errors.New("transient failure in a batch")
			}
			return nil
		}
		defer e.consumeBacklog(t, "fallback", handler, n)()
		if got := count(t, e.db, "SELECT COUNT(*) FROM processed_events WHERE consumer = 'fallback'"); got != n {
			t.Errorf("processed_events has %d rows, want %d", got, n)
		}
		// A good event that shared a batch with a failing one was handled
		// twice (rolled back, then alone) and applied once (checked above
		// by the primary key).
		mu.Lock()
		defer mu.Unlock()
		retried := 0
		for i, id := range ids {
			if i != 3 && i != 17 && calls[id] > 1 {
				retried++
			}
		}
		if !failedInBatch.Load() {
			t.Error("no batch of several events formed")
		}
		if retried == 0 {
			t.Error("no event was retried on its own after a failed batch")
		}
	})
}

// pending returns the messages of consumer name not yet acked (pending
// delivery or awaiting an ack).
func (e *env) pending(t *testing.T, name string) uint64 {
	t.Helper()
	c, err := e.js.Consumer(t.Context(), e.stream.Name, name)
	if err != nil {
		return 1 // not created yet
	}
	info, err := c.Info(t.Context())
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	return info.NumPending + uint64(info.NumAckPending)
}

// appliedKey keeps the test's deferred rows (events.Deferred).
type appliedKey struct{}

// TestBatchConsumerFlushesDeferredWrites: a handler that defers its rows
// (events.Deferred) has them written once per transaction, before the
// commit, several events' rows in one statement; a flush that fails rolls
// its batch back like a failing handler, and every event is still applied
// once.
func TestBatchConsumerFlushesDeferredWrites(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		const n = 50
		e.backlog(t, n)
		var (
			mu         sync.Mutex
			flushed    []int // rows per flush
			failedOnce atomic.Bool
		)
		flush := func(ctx context.Context, tx *sqlx.Tx, ids *[]string) error {
			if len(*ids) > 1 && failedOnce.CompareAndSwap(false, true) {
				return errors.New("transient failure in a flush")
			}
			query, args, err := sqlx.In("INSERT INTO applied (event_id) SELECT event_id FROM processed_events WHERE event_id IN (?)", *ids)
			if err != nil {
				return err
			}
			// The processed_events rows of the batch are there already: the
			// flush runs in the same transaction, after them.
			res, err := tx.ExecContext(ctx, tx.Rebind(query), args...)
			if err != nil {
				return err
			}
			if got, _ := res.RowsAffected(); got != int64(len(*ids)) {
				return fmt.Errorf("flush wrote %d rows, want %d", got, len(*ids))
			}
			mu.Lock()
			flushed = append(flushed, len(*ids))
			mu.Unlock()
			return nil
		}
		handler := func(ctx context.Context, tx *sqlx.Tx, ev events.Event) error {
			ids, ok := events.Deferred(ctx, appliedKey{}, flush)
			if !ok {
				return errors.New("a consumer handler's context keeps no deferred writes")
			}
			*ids = append(*ids, ev.ID)
			return nil
		}
		defer e.consumeBacklog(t, "deferred", handler, n)()
		mu.Lock()
		defer mu.Unlock()
		total, most := 0, 0
		for _, k := range flushed {
			total += k
			most = max(most, k)
		}
		if total != n {
			t.Errorf("flushes wrote %d rows, want %d", total, n)
		}
		if most < 2 {
			t.Errorf("at most %d rows per flush, want several events' rows in one", most)
		}
		if !failedOnce.Load() {
			t.Error("no flush failed, so the rollback was not exercised")
		}
	})
}
