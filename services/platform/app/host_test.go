package app

import (
	"context"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
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
	h := newTestHost(t, dir, "hosttest.")
	defer h.Close()
	c := Component{Name: "test", Migrations: oneTable("t"), New: func(Deps) (Service, error) { return noService{}, nil }}
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

type runningService struct {
	noService
	started chan struct{}
	stopped chan struct{}
}

func (s runningService) Run(ctx context.Context) error {
	close(s.started)
	<-ctx.Done()
	close(s.stopped)
	return nil
}

// TestRunnerRunsUntilClose: a service's background work starts with the host
// and stops when the host closes.
func TestRunnerRunsUntilClose(t *testing.T) {
	dir := t.TempDir()
	h := newTestHost(t, dir, "runnertest.")
	svc := runningService{started: make(chan struct{}), stopped: make(chan struct{})}
	c := Component{Name: "runner", Migrations: oneTable("r"), New: func(Deps) (Service, error) { return svc, nil }}
	if err := h.Add(context.Background(), c, "sqlite:"+filepath.Join(dir, "r.db")); err != nil {
		t.Fatal(err)
	}
	<-svc.started
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-svc.stopped:
	default:
		t.Fatal("Run still going after Close")
	}
}
