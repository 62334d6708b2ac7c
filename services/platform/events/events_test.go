package events_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// TestStreamFor: the stream of a producer, alone and under a deployment's
// prefix (WithPrefix).
func TestStreamFor(t *testing.T) {
	t.Parallel()
	activity := events.Stream{Name: "TIA_ACTIVITY", Subjects: []string{"tia.activity.>"}}
	tests := []struct {
		call      string
		got, want events.Stream
	}{
		{`StreamFor("activity")`, events.StreamFor("activity"), activity},
		{`StreamFor("travel")`, events.StreamFor("travel"), events.Stream{Name: "TIA_TRAVEL", Subjects: []string{"tia.travel.>"}}},
		{`WithPrefix("")`, events.StreamFor("activity").WithPrefix(""), activity},
		{`WithPrefix("ci.run1.")`, events.StreamFor("activity").WithPrefix("ci.run1."),
			events.Stream{Name: "CI_RUN1_TIA_ACTIVITY", Subjects: []string{"ci.run1.tia.activity.>"}}},
	}
	for _, tt := range tests {
		if tt.got.Name != tt.want.Name || !slices.Equal(tt.got.Subjects, tt.want.Subjects) {
			t.Errorf("%s = %+v, want %+v", tt.call, tt.got, tt.want)
		}
	}
}

func TestMigrateUnknownDialect(t *testing.T) {
	t.Parallel()
	d := sqlx.NewDb(nil, "mysql")
	if err := events.Migrate(t.Context(), d); err == nil {
		t.Fatal("Migrate succeeded for an unsupported dialect")
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		d := dbtest.Open(t, dsn)
		for range 2 {
			if err := events.Migrate(t.Context(), d); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		}
		if n := count(t, d, "SELECT COUNT(*) FROM outbox"); n != 0 {
			t.Errorf("outbox has %d rows", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM processed_events"); n != 0 {
			t.Errorf("processed_events has %d rows", n)
		}
	})
}

func TestEventDecode(t *testing.T) {
	t.Parallel()
	payload, err := proto.Marshal(wrapperspb.String("hello"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ev      events.Event
		into    proto.Message
		wantErr bool
	}{
		{"matching type", events.Event{Type: "google.protobuf.StringValue", Payload: payload}, &wrapperspb.StringValue{}, false},
		{"no type header", events.Event{Payload: payload}, &wrapperspb.StringValue{}, false},
		{"other type", events.Event{Type: "google.protobuf.StringValue", Payload: payload}, &wrapperspb.Int64Value{}, true},
		{"garbage", events.Event{Type: "google.protobuf.StringValue", Payload: []byte{0xff, 0xff}}, &wrapperspb.StringValue{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ev.Decode(tt.into)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Decode error = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && tt.into.(*wrapperspb.StringValue).GetValue() != "hello" {
				t.Errorf("decoded %v", tt.into)
			}
		})
	}
}

func TestPublishRejectsInvalidSubject(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, dbtest.NewSQLite(t), events.Migrate)
	for _, subject := range []string{"", "tia..x", "tia.*.x", "tia.activity.>", "tia.a b"} {
		err := db.InTx(t.Context(), d, func(tx *sqlx.Tx) error {
			_, err := events.Publish(t.Context(), tx, subject, wrapperspb.String("x"))
			return err
		})
		if err == nil {
			t.Errorf("Publish(%q) succeeded", subject)
		}
	}
}

func TestEnsureStreamIsIdempotent(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		for range 2 {
			if err := events.EnsureStream(t.Context(), e.js, e.stream); err != nil {
				t.Fatalf("EnsureStream: %v", err)
			}
		}
		s, err := e.js.Stream(t.Context(), e.stream.Name)
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.CachedInfo().Config
		if cfg.Storage != jetstream.FileStorage || cfg.Retention != jetstream.LimitsPolicy || cfg.Duplicates != 10*time.Minute {
			t.Errorf("stream config: storage %v, retention %v, duplicates %v", cfg.Storage, cfg.Retention, cfg.Duplicates)
		}
		if !slices.Equal(cfg.Subjects, e.stream.Subjects) {
			t.Errorf("subjects = %v, want %v", cfg.Subjects, e.stream.Subjects)
		}
	})
}

func TestOutboxRowOnlyOnCommit(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.ensureStream(t)
		errRollback := errors.New("rollback")
		tests := []struct {
			value  string
			commit bool
		}{
			{"rolled-back-1", false},
			{"committed", true},
			{"rolled-back-2", false},
		}
		for _, tt := range tests {
			err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
				if _, err := events.Publish(ctx, tx, e.subject("Thing"), wrapperspb.String(tt.value)); err != nil {
					return err
				}
				if !tt.commit {
					return errRollback
				}
				return nil
			})
			if tt.commit && err != nil || !tt.commit && !errors.Is(err, errRollback) {
				t.Fatalf("InTx(%s) = %v", tt.value, err)
			}
		}
		if n := count(t, e.db, "SELECT COUNT(*) FROM outbox"); n != 1 {
			t.Fatalf("outbox has %d rows, want 1", n)
		}

		r := e.startRelay(t)
		r.Notify()
		testkit.Eventually(t, "outbox row published", func() bool {
			return count(t, e.db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL") == 0
		})
		if n := e.streamMsgs(t); n != 1 {
			t.Fatalf("stream has %d messages, want 1", n)
		}
		if _, got := e.streamMsg(t, e.stream.Name, 1); got != "committed" {
			t.Errorf("stream message = %q, want %q", got, "committed")
		}
	})
}

func TestRelayPublishesInOrderAndMarksRows(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.ensureStream(t)
		const n = 7
		var ids []string
		for i := range n {
			ids = append(ids, e.publish(t, ctx, e.subject(fmt.Sprintf("Thing%d", i%2)), wrapperspb.String(fmt.Sprint(i))))
		}

		// A batch size below n makes the relay drain the outbox in several
		// batches within one wake-up.
		r := e.startRelay(t, events.WithBatchSize(3), events.WithPollInterval(time.Hour))
		r.Notify()
		testkit.Eventually(t, "all rows published", func() bool {
			return count(t, e.db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL") == n
		})

		if msgs := e.streamMsgs(t); msgs != n {
			t.Fatalf("stream has %d messages, want %d", msgs, n)
		}
		for i, id := range ids {
			msg, got := e.streamMsg(t, e.stream.Name, i+1)
			checks := map[string][2]string{
				"payload":        {got, fmt.Sprint(i)},
				"subject":        {msg.Subject, e.subject(fmt.Sprintf("Thing%d", i%2))},
				"Tia-Event-Id":   {msg.Header.Get(events.HeaderEventID), id},
				"Nats-Msg-Id":    {msg.Header.Get(jetstream.MsgIDHeader), id},
				"Tia-Event-Type": {msg.Header.Get(events.HeaderEventType), "google.protobuf.StringValue"},
			}
			for what, c := range checks {
				if c[0] != c[1] {
					t.Errorf("message %d: %s = %q, want %q", i+1, what, c[0], c[1])
				}
			}
		}
	})
}

// TestRepublishIsDeduplicated simulates a relay that crashed after
// publishing but before marking its rows.
func TestRepublishIsDeduplicated(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.ensureStream(t)
		id := e.publish(t, ctx, e.subject("Thing"), wrapperspb.String("once"))
		r := e.startRelay(t)
		r.Notify()
		published := func() bool {
			return count(t, e.db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL") == 1
		}
		testkit.Eventually(t, "row published", published)

		if _, err := e.db.ExecContext(ctx, e.db.Rebind("UPDATE outbox SET published_at = NULL WHERE id = ?"), id); err != nil {
			t.Fatal(err)
		}
		r.Notify()
		testkit.Eventually(t, "row published again", published)

		if n := e.streamMsgs(t); n != 1 {
			t.Errorf("stream has %d messages after re-publish, want 1", n)
		}
	})
}

// TestPrunerDeletesExpiredRows: published outbox rows and processed event
// ids older than their retention are deleted, in batches of the configured
// size, and younger or unpublished rows stay.
func TestPrunerDeletesExpiredRows(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		var old []string
		for range 3 {
			old = append(old, e.publish(t, ctx, e.subject("Thing"), wrapperspb.String("old")))
		}
		recent := e.publish(t, ctx, e.subject("Thing"), wrapperspb.String("recent"))
		unpublished := e.publish(t, ctx, e.subject("Thing"), wrapperspb.String("unpublished"))
		age := func(table, column, key string, days int) string {
			if db.Dialect(e.db) == db.DialectSQLite {
				return fmt.Sprintf("UPDATE %s SET %s = strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-%d days') WHERE %s = ?", table, column, days, key)
			}
			return fmt.Sprintf("UPDATE %s SET %s = now() - interval '%d days' WHERE %s = ?", table, column, days, key)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := e.db.ExecContext(ctx, e.db.Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range old {
			exec(age("outbox", "published_at", "id", 8), id)
			exec("INSERT INTO processed_events (consumer, event_id) VALUES (?, ?)", "pruner-test", id)
			exec(age("processed_events", "processed_at", "event_id", 16), id)
		}
		exec(age("outbox", "published_at", "id", 6), recent)
		exec("INSERT INTO processed_events (consumer, event_id) VALUES (?, ?)", "pruner-test", recent)

		// A batch of one row: the pruner repeats until nothing is left.
		p := events.NewPruner(e.db, events.PruneOptions{Batch: 1}, nil)
		outbox, processed := p.PruneOnce(ctx)
		if outbox != 3 || processed != 3 {
			t.Errorf("pruned %d outbox rows and %d processed ids, want 3 and 3", outbox, processed)
		}
		for _, id := range []string{recent, unpublished} {
			if n := count(t, e.db, "SELECT COUNT(*) FROM outbox WHERE id = ?", id); n != 1 {
				t.Errorf("outbox row %s within retention or unpublished was deleted", id)
			}
		}
		if n := count(t, e.db, "SELECT COUNT(*) FROM processed_events WHERE consumer = ?", "pruner-test"); n != 1 {
			t.Errorf("%d processed ids left, want the recent one", n)
		}
	})
}

// TestConsumerAppliesEachEventOnce delivers the same event several times
// and checks the handler's effects are applied exactly once.
func TestConsumerAppliesEachEventOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// failFirst makes the handler fail (after writing) on its first
		// call, so the event is naked and redelivered.
		failFirst bool
		// copyWithOtherMsgID publishes the event a second time under a new
		// JetStream message id, which the stream does not deduplicate.
		copyWithOtherMsgID bool
		wantCalls          int32
	}{
		{name: "single delivery", wantCalls: 1},
		{name: "redelivered after nak", failFirst: true, wantCalls: 2},
		{name: "duplicate message", copyWithOtherMsgID: true, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eachEnv(t, func(t *testing.T, e *env) {
				ctx := t.Context()
				if _, err := e.db.ExecContext(ctx, "CREATE TABLE applied (event_id TEXT NOT NULL, value TEXT NOT NULL)"); err != nil {
					t.Fatal(err)
				}

				var calls atomic.Int32
				handler := func(ctx context.Context, tx *sqlx.Tx, ev events.Event) error {
					n := calls.Add(1)
					var v wrapperspb.StringValue
					if err := ev.Decode(&v); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO applied (event_id, value) VALUES (?, ?)"), ev.ID, v.GetValue()); err != nil {
						return err
					}
					if tt.failFirst && n == 1 {
						return errors.New("transient failure")
					}
					return nil
				}
				// The consumer starts before anything created the stream.
				e.startConsumer(t, "applier", handler)

				e.ensureStream(t)
				id := e.publish(t, ctx, e.subject("Thing"), wrapperspb.String("v"))
				e.startRelay(t).Notify()

				wantMsgs := uint64(1)
				if tt.copyWithOtherMsgID {
					wantMsgs = 2
					testkit.Eventually(t, "relay publish", func() bool { return e.streamMsgs(t) == 1 })
					dup := nats.NewMsg(e.subject("Thing"))
					dup.Header.Set(events.HeaderEventID, id)
					dup.Header.Set(events.HeaderEventType, "google.protobuf.StringValue")
					dup.Data, _ = proto.Marshal(wrapperspb.String("v"))
					if _, err := e.js.PublishMsg(ctx, dup, jetstream.WithMsgID(id+"-copy")); err != nil {
						t.Fatal(err)
					}
				}

				testkit.Eventually(t, "all messages acked", func() bool {
					c, err := e.js.Consumer(ctx, e.stream.Name, "applier")
					if err != nil {
						return false
					}
					info, err := c.Info(ctx)
					return err == nil && info.AckFloor.Stream == wantMsgs && info.NumAckPending == 0
				})
				if got := calls.Load(); got != tt.wantCalls {
					t.Errorf("handler called %d times, want %d", got, tt.wantCalls)
				}
				if n := count(t, e.db, "SELECT COUNT(*) FROM applied WHERE event_id = ?", id); n != 1 {
					t.Errorf("event applied %d times, want 1", n)
				}
				if n := count(t, e.db, "SELECT COUNT(*) FROM processed_events WHERE consumer = 'applier' AND event_id = ?", id); n != 1 {
					t.Errorf("processed_events has %d rows for the event, want 1", n)
				}
			})
		})
	}
}

// TestTraceContinuity checks that the consumer's span belongs to the trace
// that was active when the event was published, via the relay's producer
// span.
func TestTraceContinuity(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		handled := make(chan trace.SpanContext, 1)
		e.startConsumer(t, "tracer", func(ctx context.Context, _ *sqlx.Tx, _ events.Event) error {
			handled <- trace.SpanContextFromContext(ctx)
			return nil
		})
		if err := events.EnsureStream(t.Context(), e.js, e.stream); err != nil {
			t.Fatal(err)
		}

		ctx, root := otel.Tracer("test").Start(t.Context(), "register activity")
		e.publish(t, ctx, e.subject("Traced"), wrapperspb.String("t"))
		root.End()
		e.startRelay(t).Notify()

		var got trace.SpanContext
		select {
		case got = <-handled:
		case <-time.After(10 * time.Second):
			t.Fatal("event not handled")
		}
		traceID := root.SpanContext().TraceID()
		if got.TraceID() != traceID {
			t.Fatalf("handler ran in trace %s, want %s", got.TraceID(), traceID)
		}

		// The chain is root -> producer (relay) -> consumer.
		byKind := map[trace.SpanKind]tracetestSpan{}
		testkit.Eventually(t, "producer and consumer spans exported", func() bool {
			for _, s := range spans.GetSpans() {
				if s.SpanContext.TraceID() == traceID {
					byKind[s.SpanKind] = tracetestSpan{id: s.SpanContext.SpanID(), parent: s.Parent.SpanID(), name: s.Name}
				}
			}
			_, p := byKind[trace.SpanKindProducer]
			_, c := byKind[trace.SpanKindConsumer]
			return p && c
		})
		producer, consumer := byKind[trace.SpanKindProducer], byKind[trace.SpanKindConsumer]
		if producer.parent != root.SpanContext().SpanID() {
			t.Errorf("producer span %q parent = %s, want root %s", producer.name, producer.parent, root.SpanContext().SpanID())
		}
		if consumer.parent != producer.id {
			t.Errorf("consumer span %q parent = %s, want producer %s", consumer.name, consumer.parent, producer.id)
		}
		if got.SpanID() != consumer.id {
			t.Errorf("handler context span = %s, want consumer span %s", got.SpanID(), consumer.id)
		}
	})
}

type tracetestSpan struct {
	id, parent trace.SpanID
	name       string
}

// TestConsumerSurvivesNATSRestart restarts the NATS server under a running
// relay and consumer; events published afterwards must still arrive, also
// when the server comes back without its storage (stream and consumer gone).
func TestConsumerSurvivesNATSRestart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		keepStorage bool
	}{
		{"same storage", true},
		{"storage lost", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ns, _, err := events.StartEmbedded(dir, events.EmbeddedListen("127.0.0.1", -1))
			if err != nil {
				t.Fatal(err)
			}
			port := ns.Addr().(*net.TCPAddr).Port
			var mu sync.Mutex
			current := ns
			t.Cleanup(func() { mu.Lock(); current.Shutdown(); mu.Unlock() })

			nc, err := events.Connect(ns.ClientURL(), t.Name())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(nc.Close)
			e := newEnv(t, dbtest.NewSQLite(t), nc)

			received := make(chan string, 10)
			e.startConsumer(t, "survivor", func(_ context.Context, _ *sqlx.Tx, ev events.Event) error {
				received <- ev.ID
				return nil
			})
			r := e.startRelay(t)
			if err := events.EnsureStream(t.Context(), e.js, e.stream); err != nil {
				t.Fatal(err)
			}
			expect := func(id string) {
				t.Helper()
				select {
				case got := <-received:
					if got != id {
						t.Fatalf("received %s, want %s", got, id)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("event %s not received", id)
				}
			}

			first := e.publish(t, t.Context(), e.subject("Before"), wrapperspb.String("1"))
			r.Notify()
			expect(first)

			ns.Shutdown()
			ns.WaitForShutdown()
			// Published while NATS is down: the relay keeps it until NATS is
			// back (and, without storage, until the consumer has recreated
			// the stream).
			second := e.publish(t, t.Context(), e.subject("During"), wrapperspb.String("2"))
			r.Notify()

			if !tt.keepStorage {
				dir = t.TempDir()
			}
			ns2, _, err := events.StartEmbedded(dir, events.EmbeddedListen("127.0.0.1", port))
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			current = ns2
			mu.Unlock()
			expect(second)
		})
	}
}

// TestDeleteStreams: the streams under a prefix go (named as WithPrefix
// names them); a longer prefix's stay, and an empty prefix deletes nothing.
func TestDeleteStreams(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		run := "run" + randomHex()
		gone, kept := run+".", run+"x."
		var streams []events.Stream
		for _, prefix := range []string{gone, kept} {
			for _, producer := range []string{"activity", "travel"} {
				s := events.StreamFor(producer).WithPrefix(prefix)
				if err := events.EnsureStream(ctx, e.js, s); err != nil {
					t.Fatal(err)
				}
				streams = append(streams, s)
			}
		}
		t.Cleanup(func() {
			for _, s := range streams {
				_ = e.js.DeleteStream(context.Background(), s.Name)
			}
		})
		if err := events.DeleteStreams(ctx, e.nc, ""); err != nil {
			t.Fatal(err)
		}
		if err := events.DeleteStreams(ctx, e.nc, gone); err != nil {
			t.Fatal(err)
		}
		for i, s := range streams {
			_, err := e.js.Stream(ctx, s.Name)
			if wantGone := i < 2; wantGone != errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Errorf("stream %s after DeleteStreams(%q): %v; want gone %v", s.Name, gone, err, wantGone)
			}
		}
	})
}

func TestRelayWithSubjectPrefix(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		prefix := "dep" + randomHex() + "."
		stream := e.stream.WithPrefix(prefix)
		if err := events.EnsureStream(ctx, e.js, stream); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.js.DeleteStream(context.Background(), stream.Name) })

		e.publish(t, ctx, e.subject("Thing"), wrapperspb.String("prefixed"))
		e.startRelay(t, events.WithSubjectPrefix(prefix)).Notify()

		testkit.Eventually(t, "event in the prefixed stream", func() bool {
			s, err := e.js.Stream(ctx, stream.Name)
			if err != nil {
				return false
			}
			info, err := s.Info(ctx)
			return err == nil && info.State.Msgs == 1
		})
		msg, _ := e.streamMsg(t, stream.Name, 1)
		if want := prefix + e.subject("Thing"); msg.Subject != want {
			t.Errorf("subject = %q, want %q", msg.Subject, want)
		}
	})
}

// TestConcurrentConsumerAppliesEachEventOnce: with WithConcurrency, events
// are applied in parallel, each exactly once.
func TestConcurrentConsumerAppliesEachEventOnce(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		e.createApplied(t)
		var inFlight, most atomic.Int32
		handler := func(ctx context.Context, tx *sqlx.Tx, ev events.Event) error {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(5 * time.Millisecond)
			_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO applied (event_id) VALUES (?)"), ev.ID)
			return err
		}
		e.ensureStream(t)
		const n = 40
		e.publishThings(t, n)
		e.startRelay(t).Notify()
		c := events.NewConsumer(e.db, e.js, "parallel", e.stream, nil, handler,
			events.WithConcurrency(4), events.WithNakDelay(10*time.Millisecond, 50*time.Millisecond), events.WithConsumerLogger(testLogger(t)))
		run(t, c.Run)
		testkit.Eventually(t, "all applied", func() bool { return count(t, e.db, "SELECT COUNT(*) FROM applied") == n })
		if got := count(t, e.db, "SELECT COUNT(*) FROM processed_events WHERE consumer = 'parallel'"); got != n {
			t.Errorf("processed_events has %d rows, want %d", got, n)
		}
		// SQLite writes one transaction at a time; PostgreSQL overlaps them.
		if db.Dialect(e.db) == db.DialectPostgres && most.Load() < 2 {
			t.Errorf("at most %d events in flight, want more than 1", most.Load())
		}
	})
}

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
