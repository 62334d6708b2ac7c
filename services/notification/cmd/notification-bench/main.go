// Command notification-bench measures the notification service with
// PostgreSQL and NATS JetStream (both on loopback, as in `make test`):
//
//   - event latency: events committed in a producing service's outbox at a
//     steady rate (default 1,000/s for 60 s) travel through the relay, NATS
//     and the notification consumer into inbox rows; it prints p50, p99 and
//     max from the producer's commit to the inbox row (stamped in the
//     consumer's transaction), and how many were lost (should be 0);
//   - webhook fan-out: one event to a recipient with 100 webhooks on a
//     loopback HTTP server; it prints deliveries per second.
//
// Each run uses fresh databases and its own NATS subject prefix, and removes
// them at the end.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/notification"
	"github.com/tia-platform/tia/services/notification/internal/dispatch"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/profiling"
	"github.com/tia-platform/tia/services/platform/refdata"
)

func main() {
	var (
		pgURL    = flag.String("postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL server (an existing database to connect to; fresh ones are created beside it)")
		natsURL  = flag.String("nats", "nats://127.0.0.1:4222", "NATS JetStream server")
		rate     = flag.Int("rate", 1000, "events per second")
		duration = flag.Duration("duration", 60*time.Second, "how long to sustain the rate")
		fanout   = flag.Int("webhooks", 100, "webhooks of the fan-out recipient")
		fanEvts  = flag.Int("fanout-events", 10, "events sent to the fan-out recipient")
		cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
		profDir  = flag.String("profile-dir", "", "write CPU and allocation profiles of the run (notification_events.*.pprof) into this folder")
	)
	flag.Parse()
	if *cpuProf != "" && *profDir != "" {
		fmt.Fprintln(os.Stderr, "notification-bench: -cpuprofile or -profile-dir, not both")
		os.Exit(2)
	}
	stopProfile, err := profiling.Start(*profDir, "notification_events")
	if err != nil {
		fmt.Fprintln(os.Stderr, "notification-bench:", err)
		os.Exit(1)
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	err = run(*pgURL, *natsURL, *rate, *duration, *fanout, *fanEvts)
	err = errors.Join(err, stopProfile())
	if err != nil {
		fmt.Fprintln(os.Stderr, "notification-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// producer is a stand-in for the activity registry: it owns a database with
// an outbox and publishes ActivityRegistered events through the platform's
// relay, exactly as the real service's units of work do.
type producer struct{ deps app.Deps }

func (*producer) Register(grpc.ServiceRegistrar)    {}
func (*producer) Subscriptions() []app.Subscription { return nil }

func run(pgURL, natsURL string, rate int, duration time.Duration, webhooks, fanEvents int) error {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	slog.SetDefault(log) // the consumers log through the default logger
	suffix := randomHex(6)

	var dsns []string
	for _, prefix := range []string{"bench_producer_", "bench_notification_"} {
		dsn, drop, err := db.CreateDatabase(ctx, pgURL, prefix)
		if err != nil {
			return err
		}
		defer drop() //nolint:errcheck
		dsns = append(dsns, dsn)
	}

	nc, err := nats.Connect(natsURL)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	prefix := "bench" + suffix + "."
	progressNC, progressStream = nc, events.StreamFor("activity").WithPrefix(prefix).Name
	defer events.DeleteStreams(context.Background(), nc, prefix) //nolint:errcheck
	host, err := app.NewHost(log, nc, nil, app.WithEventPrefix(prefix))
	if err != nil {
		return err
	}
	defer host.Close()

	prod := &producer{}
	producerComponent := app.Component{Name: "activity", Migrations: fstest.MapFS{"00001_none.sql": {Data: []byte("-- +goose Up\nSELECT 1;\n")}}, New: func(d app.Deps) (app.Service, error) {
		prod.deps = d
		return prod, nil
	}}
	if err := host.Add(ctx, producerComponent, dsns[0]); err != nil {
		return err
	}
	// The fan-out's receiver listens on loopback: the allow-list of
	// development receivers names it (every other webhook must be public).
	receiver, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer receiver.Close()
	cfg := notification.Config{Development: true, WebhookAllowHosts: receiver.Addr().String(),
		Delivery: dispatch.Config{PollInterval: 50 * time.Millisecond, Concurrency: 64}}
	if err := host.Add(ctx, notification.NewComponent(&cfg), dsns[1]); err != nil {
		return err
	}
	ndb, err := db.Open(ctx, dsns[1])
	if err != nil {
		return err
	}
	defer ndb.Close()

	// Seeing each event on the wire splits the latency into the relay's
	// part (commit to NATS) and the consumer's (NATS to inbox).
	var onWire sync.Map
	sub, err := nc.Subscribe(prefix+"tia.activity.>", func(m *nats.Msg) {
		onWire.LoadOrStore(m.Header.Get(events.HeaderEventID), time.Now())
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe() //nolint:errcheck
	wire = &onWire

	if err := latency(ctx, prod, ndb, rate, duration); err != nil {
		return err
	}
	return fanOut(ctx, prod, ndb, receiver, webhooks, fanEvents)
}

// publish commits one ActivityRegistered event for a kommun in the
// producer's outbox and returns its id and commit time.
func publish(ctx context.Context, p *producer, n int, kommun refdata.Kommun) (string, time.Time, error) {
	var ev events.Outgoing
	err := db.InTx(ctx, p.deps.DB, func(tx *sqlx.Tx) error {
		var err error
		ev, err = events.Stage(ctx, tx, "tia.activity.ActivityRegistered", &activityv1.ActivityRegistered{Activity: &activityv1.Activity{
			Name:  fmt.Sprintf("organisers/8020038884/activities/bench-%d", n),
			Title: "Svenska för nybörjare", KommunCode: kommun.Code, LanCode: kommun.LanCode, Capacity: 20,
			Focus: []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH}, StartDate: "2027-01-10", EndDate: "2027-06-30",
			CreateTime: timestamppb.Now(),
		}})
		return err
	})
	committed := time.Now()
	if err == nil {
		// As a unit of work does (uow.Runner.Do).
		p.deps.Relay.Hand(ev)
	}
	return ev.ID(), committed, err
}

func latency(ctx context.Context, p *producer, ndb *sqlx.DB, rate int, duration time.Duration) error {
	kommuner := refdata.Kommuner()
	total := int(float64(rate) * duration.Seconds())
	commits := make([]time.Time, total)
	ids := make([]string, total)
	var failed atomic.Int64

	// A bounded set of workers publishes at the scheduled instants; the
	// schedule does not wait for slow commits (open-loop load).
	const workers = 16
	jobs := make(chan int, rate)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				id, t, err := publish(ctx, p, i, kommuner[i%len(kommuner)])
				if err != nil {
					failed.Add(1)
					continue
				}
				ids[i], commits[i] = id, t
			}
		}()
	}
	if os.Getenv("BENCH_PROGRESS") != "" {
		go func() {
			js, _ := jetstream.New(progressNC)
			for range time.Tick(time.Second) {
				var n int
				_ = ndb.GetContext(ctx, &n, "SELECT COUNT(*) FROM messages")
				var inStream uint64
				if st, err := js.Stream(ctx, progressStream); err == nil {
					if info, err := st.Info(ctx); err == nil {
						inStream = info.State.Msgs
					}
				}
				fmt.Fprintf(os.Stderr, "progress: %d in stream, %d in inboxes\n", inStream, n)
			}
		}()
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	sent := time.Since(start)
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d events failed to commit", n)
	}

	// Wait for every event to reach an inbox.
	deadline := time.Now().Add(2*time.Minute + duration)
	var got int
	for {
		if err := ndb.GetContext(ctx, &got, "SELECT COUNT(*) FROM messages"); err != nil {
			return err
		}
		if got >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var rows []struct {
		EventID    string `db:"event_id"`
		CreateTime string `db:"create_time"`
	}
	if err := ndb.SelectContext(ctx, &rows, "SELECT event_id, create_time FROM messages"); err != nil {
		return err
	}
	inbox := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		t, _ := time.Parse(time.RFC3339Nano, r.CreateTime)
		inbox[r.EventID] = t
	}
	var lat, relayLat, consumeLat []time.Duration
	lost := 0
	for i, id := range ids {
		t, ok := inbox[id]
		if !ok {
			lost++
			continue
		}
		lat = append(lat, t.Sub(commits[i]))
		if w, ok := wire.Load(id); ok {
			relayLat = append(relayLat, w.(time.Time).Sub(commits[i]))
			consumeLat = append(consumeLat, t.Sub(w.(time.Time)))
		}
	}
	slices.Sort(lat)
	slices.Sort(relayLat)
	slices.Sort(consumeLat)
	pctOf := func(l []time.Duration, q float64) float64 {
		if len(l) == 0 {
			return 0
		}
		return float64(l[min(len(l)-1, int(q*float64(len(l))))].Microseconds()) / 1000
	}
	pct := func(q float64) float64 { return pctOf(lat, q) }
	name := fmt.Sprintf("notification_event_to_inbox_%dps_%ds", rate, int(duration.Seconds()))
	fmt.Printf("BENCH %s_offered %.0f events/s\n", name, float64(total)/sent.Seconds())
	fmt.Printf("BENCH %s_p50 %.1f ms\n", name, pct(0.50))
	fmt.Printf("BENCH %s_p99 %.1f ms\n", name, pct(0.99))
	fmt.Printf("BENCH %s_max %.1f ms\n", name, pct(1))
	fmt.Printf("BENCH %s_lost %d events\n", name, lost)
	fmt.Printf("BENCH %s_relay_p50 %.1f ms (commit to NATS)\n", name, pctOf(relayLat, 0.5))
	fmt.Printf("BENCH %s_relay_p99 %.1f ms (commit to NATS)\n", name, pctOf(relayLat, 0.99))
	fmt.Printf("BENCH %s_consumer_p50 %.1f ms (NATS to inbox row)\n", name, pctOf(consumeLat, 0.5))
	fmt.Printf("BENCH %s_consumer_p99 %.1f ms (NATS to inbox row)\n", name, pctOf(consumeLat, 0.99))
	fmt.Printf("BENCH %s_p99 ratio %.2f vs goal_100ms\n", name, pct(0.99)/100)
	if dup := len(rows) - len(inbox); dup != 0 {
		return fmt.Errorf("%d events reached the inbox twice", dup)
	}
	return nil
}

// fanOut sends events to a recipient with many webhooks and measures how
// fast the dispatcher delivers them.
func fanOut(ctx context.Context, p *producer, ndb *sqlx.DB, l net.Listener, webhooks, evts int) error {
	var calls atomic.Int64
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		calls.Add(1)
	})}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	// All events below go to Gotland's county board (län 09).
	const recipient = "lansstyrelse-09"
	for i := range webhooks {
		if err := store.CreateWebhook(ctx, ndb, store.Webhook{
			Recipient: recipient, ID: fmt.Sprintf("hook-%03d", i), URL: "http://" + l.Addr().String() + fmt.Sprintf("/hook/%d", i),
			Secret: dispatch.NewSecret(), CreateTime: time.Now().UTC().Format(time.RFC3339Nano),
		}); err != nil {
			return err
		}
	}
	if err := store.PutSubscription(ctx, ndb, store.Subscription{Recipient: recipient, Topic: "activity.registered", Channels: store.ChannelWebhook, Language: "sv"}); err != nil {
		return err
	}
	// The subscription was written to the database directly, as another
	// replica would; the service reuses what it read for up to a second.
	time.Sleep(1500 * time.Millisecond)
	gotland, ok := refdata.KommunByCode("0980")
	if !ok {
		return errors.New("no kommun 0980")
	}
	want := int64(webhooks * evts)
	start := time.Now()
	for i := range evts {
		if _, _, err := publish(ctx, p, 1_000_000+i, gotland); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for calls.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	if got := calls.Load(); got < want {
		return fmt.Errorf("fan-out: %d of %d webhook calls arrived", got, want)
	}
	fmt.Printf("BENCH notification_webhook_fanout_%d %.0f deliveries/s\n", webhooks, float64(want)/elapsed.Seconds())
	fmt.Printf("BENCH notification_webhook_fanout_%d ratio %.2f vs goal_5000_per_s\n", webhooks, float64(want)/elapsed.Seconds()/5000)
	fmt.Printf("BENCH notification_webhook_fanout_%d_total %.0f ms (%d events x %d webhooks, commit to last call)\n", webhooks, float64(elapsed.Microseconds())/1000, evts, webhooks)
	return nil
}

var (
	progressNC     *nats.Conn
	progressStream string
	wire           *sync.Map // event id -> when it was seen on NATS
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
