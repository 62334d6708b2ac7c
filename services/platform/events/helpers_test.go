package events_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
)

// natsURL is the external NATS server the PostgreSQL variants run against.
const natsURL = "nats://127.0.0.1:4222"

// spans receives every span of the test binary. Tests run in parallel, so
// they look only at spans of their own trace.
var spans = tracetest.NewInMemoryExporter()

func TestMain(m *testing.M) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	code := m.Run()
	_ = tp.Shutdown(context.Background())
	os.Exit(code)
}

// env is a migrated database plus a JetStream context, and a stream that
// belongs to this test alone.
type env struct {
	db     *sqlx.DB
	nc     *nats.Conn
	js     jetstream.JetStream
	stream events.Stream
	// prefix is the subject prefix of stream, e.g. "tia.t0123abcd".
	prefix string
}

// subject returns a subject of the test's stream.
func (e *env) subject(name string) string { return e.prefix + "." + name }

// eachEnv runs fn against SQLite with an embedded NATS server and against
// PostgreSQL with the NATS server on 127.0.0.1:4222, in parallel.
func eachEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Run("sqlite+embedded", func(t *testing.T) {
		t.Parallel()
		ns, nc, err := events.StartEmbedded(t.TempDir())
		if err != nil {
			t.Fatalf("StartEmbedded: %v", err)
		}
		t.Cleanup(ns.Shutdown)
		fn(t, newEnv(t, dbtest.NewSQLite(t), nc))
	})
	t.Run("postgres+nats", func(t *testing.T) {
		t.Parallel()
		nc, err := nats.Connect(natsURL, nats.Name(t.Name()))
		if err != nil {
			t.Fatalf("connect to %s: %v", natsURL, err)
		}
		t.Cleanup(nc.Close)
		fn(t, newEnv(t, dbtest.NewPostgres(t), nc))
	})
}

func newEnv(t *testing.T, dsn string, nc *nats.Conn) *env {
	t.Helper()
	d := dbtest.Open(t, dsn, events.Migrate)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream.New: %v", err)
	}

	producer := "t" + randomHex()
	stream := events.StreamFor(producer)
	t.Cleanup(func() {
		// Streams on the shared server must not pile up.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, stream.Name)
	})
	return &env{db: d, nc: nc, js: js, stream: stream, prefix: "tia." + producer}
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// publish writes msg to the outbox in its own committed transaction.
func (e *env) publish(t *testing.T, ctx context.Context, subject string, msg proto.Message) string {
	t.Helper()
	var id string
	err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
		var err error
		id, err = events.Publish(ctx, tx, subject, msg)
		return err
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return id
}

// ensureStream creates the test's stream.
func (e *env) ensureStream(t *testing.T) {
	t.Helper()
	if err := events.EnsureStream(t.Context(), e.js, e.stream); err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
}

// publishThings publishes n events "Thing" with the values 0 to n-1, each
// in its own transaction, and returns their ids.
func (e *env) publishThings(t *testing.T, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.publish(t, t.Context(), e.subject("Thing"), wrapperspb.String(strconv.Itoa(i)))
	}
	return ids
}

// createApplied creates the table applied, where handlers record the ids of
// the events they apply; its primary key refuses a second application.
func (e *env) createApplied(t *testing.T) {
	t.Helper()
	if _, err := e.db.ExecContext(t.Context(), "CREATE TABLE applied (event_id TEXT NOT NULL PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
}

// startRelay runs a relay polling every 20ms until the test ends.
func (e *env) startRelay(t *testing.T, opts ...events.RelayOption) *events.Relay {
	t.Helper()
	defaults := []events.RelayOption{
		events.WithPollInterval(20 * time.Millisecond),
		events.WithPublishTimeout(time.Second),
		events.WithRelayLogger(testLogger(t)),
	}
	r := events.NewRelay(e.db, e.js, append(defaults, opts...)...)
	run(t, r.Run)
	return r
}

// startConsumer runs a consumer until the test ends.
func (e *env) startConsumer(t *testing.T, name string, h events.Handler) {
	t.Helper()
	c := events.NewConsumer(e.db, e.js, name, e.stream, nil, h,
		events.WithNakDelay(10*time.Millisecond, 50*time.Millisecond), events.WithConsumerLogger(testLogger(t)))
	run(t, c.Run)
}

// testLogger attributes log lines to the test that caused them.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// run runs fn in a goroutine until the test ends, and checks that it
// returns nil promptly once its context is canceled.
func run(t *testing.T, fn func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var err error
	wg.Go(func() { err = fn(ctx) })
	t.Cleanup(func() {
		cancel()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
}

// count runs a COUNT(*) query.
func count(t *testing.T, d *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.GetContext(context.Background(), &n, d.Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// streamMsg returns message seq of stream and its payload, a StringValue.
func (e *env) streamMsg(t *testing.T, stream string, seq int) (*jetstream.RawStreamMsg, string) {
	t.Helper()
	s, err := e.js.Stream(t.Context(), stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	msg, err := s.GetMsg(t.Context(), uint64(seq))
	if err != nil {
		t.Fatalf("GetMsg(%d): %v", seq, err)
	}
	var v wrapperspb.StringValue
	if err := proto.Unmarshal(msg.Data, &v); err != nil {
		t.Fatalf("message %d: %v", seq, err)
	}
	return msg, v.GetValue()
}

// streamMsgs returns the number of messages in the test's stream, or 0 if
// the stream does not exist yet.
func (e *env) streamMsgs(t *testing.T) uint64 {
	t.Helper()
	s, err := e.js.Stream(t.Context(), e.stream.Name)
	if err != nil {
		return 0
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}
