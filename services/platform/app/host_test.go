package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"testing/fstest"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tia-platform/tia/services/platform/events"
)

type noService struct{}

func (noService) Register(r grpc.ServiceRegistrar) {
	r.RegisterService(&grpc.ServiceDesc{ServiceName: "tia.test.v1.NoService", HandlerType: (*any)(nil)}, struct{}{})
}
func (noService) Subscriptions() []Subscription { return nil }

// TestHealthFollowsDependencies: a service reports NOT_SERVING while its
// database is unreachable, so readiness fails.
func TestHealthFollowsDependencies(t *testing.T) {
	dir := t.TempDir()
	ns, nc, err := events.StartEmbedded(filepath.Join(dir, "nats"))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	defer nc.Close()
	h, err := NewHost(slog.Default(), nc, nil, WithEventPrefix("hosttest."))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	migrations := fstest.MapFS{"00001_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t (id TEXT);\n")}}
	c := Component{Name: "test", Migrations: migrations, New: func(Deps) (Service, error) { return noService{}, nil }}
	ctx := context.Background()
	if err := h.Add(ctx, c, "sqlite:"+filepath.Join(dir, "test.db")); err != nil {
		t.Fatal(err)
	}
	check := func(service string) healthpb.HealthCheckResponse_ServingStatus {
		resp, err := h.Health().Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetStatus()
	}
	if got := check("tia.test.v1.NoService"); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("status = %v, want SERVING", got)
	}
	h.parts[0].db.Close()
	h.checkHealth(ctx)
	for _, s := range []string{"", "tia.test.v1.NoService"} {
		if got := check(s); got != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("%q with the database closed = %v, want NOT_SERVING", s, got)
		}
	}
}
