package app

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go/jetstream"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestStartsAndServesWithoutNATS: with NATS unreachable a component starts,
// is live and ready, and keeps its events in the outbox; once NATS comes up
// the stream is created and the events leave.
func TestStartsAndServesWithoutNATS(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	nc, err := events.Connect("nats://127.0.0.1:"+strconv.Itoa(port), "starttest")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	h, err := NewHost(slog.Default(), nc, nil, WithEventPrefix("starttest."), WithStreamLimits(time.Hour, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c := Component{Name: "startup", Migrations: oneTable("s"),
		New: func(Deps) (Service, error) { return noService{}, nil }}
	ctx := context.Background()
	if err := h.Add(ctx, c, "sqlite:"+filepath.Join(dir, "s.db")); err != nil {
		t.Fatalf("Add without NATS: %v", err)
	}
	for _, s := range []string{Liveness, "", "tia.test.v1.NoService"} {
		resp, err := h.Health().Check(ctx, &healthpb.HealthCheckRequest{Service: s})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q without NATS = %v, %v; want SERVING", s, resp.GetStatus(), err)
		}
	}
	d := h.parts[0].db
	if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		_, err := events.Publish(ctx, tx, "tia.startup.Thing", wrapperspb.String("x"))
		return err
	}); err != nil {
		t.Fatal(err)
	}

	ns, nc2, err := events.StartEmbedded(filepath.Join(dir, "nats"), events.EmbeddedListen("127.0.0.1", port))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	defer nc2.Close()
	js, err := jetstream.New(nc2)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var pending int
		if err := d.GetContext(ctx, &pending, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still in the outbox 30 s after NATS came up", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, err := js.Stream(ctx, "STARTTEST_TIA_STARTUP")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 || info.Config.MaxAge != time.Hour || info.Config.MaxBytes != 1<<20 {
		t.Errorf("stream: %d messages, max age %s, max bytes %d; want 1, 1h, 1 MiB", info.State.Msgs, info.Config.MaxAge, info.Config.MaxBytes)
	}
}

type hostSettings struct{ N int }

func (s *hostSettings) Register(fs *flag.FlagSet) {
	config.Int(fs, &s.N, "hosttest-n", 3, "a number")
}

func (s *hostSettings) Validate() error { return config.Positive("hosttest-n", s.N) }

// TestComponentSettingsFromEnvironment: Add reads a component's own settings
// from TIA_* variables, validates them and hands them to New; a bad value
// is an error naming the variable.
func TestComponentSettingsFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	h := newTestHost(t, dir, "settingstest.")
	defer h.Close()
	var got *hostSettings
	c := Component{Name: "settings", Migrations: oneTable("s"),
		Config: func() config.Settings { return &hostSettings{} },
		New: func(d Deps) (Service, error) {
			got = d.Config.(*hostSettings)
			return noService{}, nil
		}}
	for _, tc := range []struct{ env, wantErr string }{
		{"x", `TIA_HOSTTEST_N: not a whole number: "x"`},
		{"0", `TIA_HOSTTEST_N: must be more than 0`},
	} {
		t.Setenv("TIA_HOSTTEST_N", tc.env)
		err := h.Add(context.Background(), c, "sqlite:"+filepath.Join(dir, "s.db"))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("TIA_HOSTTEST_N=%s: Add = %v, want %s", tc.env, err, tc.wantErr)
		}
	}
	t.Setenv("TIA_HOSTTEST_N", "7")
	if err := h.Add(context.Background(), c, "sqlite:"+filepath.Join(dir, "s.db")); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.N != 7 {
		t.Errorf("settings = %+v, want N 7", got)
	}
}
