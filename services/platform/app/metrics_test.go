package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/grpcserver"
	"github.com/tia-platform/tia/services/platform/telemetry"
)

type consumingService struct{ noService }

func (consumingService) Subscriptions() []Subscription {
	return []Subscription{{Producer: "metrics", Handler: func(context.Context, *sqlx.Tx, events.Event) error { return nil }}}
}

// TestMetricsExposition: /metrics passes promlint (what `promtool check
// metrics` runs) without a problem and has the series an operator alerts
// on: RED per gRPC method, outbox backlog and age, consumer lag and
// redeliveries, the database pool, and the build.
func TestMetricsExposition(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "tia-metrics-from-env")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, "tia-metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tel.Shutdown(ctx) }()

	dir := t.TempDir()
	h := newTestHost(t, dir, "metricstest.")
	defer h.Close()
	srv, err := grpcserver.New(grpcserver.Options{Logger: slog.Default(), Verifier: auth.NewVerifier(auth.NewIssuer(nil, "").PublicKeys()), IsPublic: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	healthpb.RegisterHealthServer(srv, h.Health())
	c := Component{Name: "metrics", Migrations: oneTable("m"),
		New: func(Deps) (Service, error) { return consumingService{}, nil }}
	if err := h.Add(ctx, c, "sqlite:"+filepath.Join(dir, "m.db"), srv); err != nil {
		t.Fatal(err)
	}
	cc := serve(t, srv)
	if _, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	// An event waits in the outbox until the relay takes it.
	if err := db.InTx(ctx, h.parts[0].db, func(tx *sqlx.Tx) error {
		_, err := events.Publish(ctx, tx, "tia.metrics.Thing", wrapperspb.String("x"))
		return err
	}); err != nil {
		t.Fatal(err)
	}

	var body []byte
	want := []string{
		`rpc_server_call_duration_seconds_count{`,
		`rpc_method="grpc.health.v1.Health/Check"`,
		`tia_outbox_backlog{`,
		`tia_outbox_oldest_age_seconds{`,
		`tia_consumer_pending_events{consumer="metrics-from-metrics"`,
		`tia_consumer_redeliveries_total{`,
		`tia_db_connections{`,
		`state="in_use"`,
		`tia_db_connection_waits_total{`,
		`tia_db_connection_wait_seconds_total{`,
		`tia_build_info{commit=`,
		`service_name="tia-metrics-from-env"`,
		`deployment_environment="test"`,
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec := httptest.NewRecorder()
		tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ = io.ReadAll(rec.Body)
		missing := ""
		for _, w := range want {
			if !bytes.Contains(body, []byte(w)) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s:\n%s", missing, grep(body, "tia_", "rpc_", "target_info"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func grep(body []byte, prefixes ...string) string {
	var out []string
	for line := range strings.SplitSeq(string(body), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) || strings.HasPrefix(line, "# TYPE "+p) {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}

var _ grpc.ServiceRegistrar = (*grpc.Server)(nil)
