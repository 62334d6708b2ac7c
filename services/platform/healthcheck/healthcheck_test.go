package healthcheck_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tia-platform/tia/services/platform/healthcheck"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// serve starts a health server on 127.0.0.1 and returns it with a client
// connection to it.
func serve(t *testing.T) (*health.Server, *grpc.ClientConn) {
	t.Helper()
	hs := health.NewServer()
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	return hs, testkit.Serve(t, srv)
}

func TestCheck(t *testing.T) {
	hs, cc := serve(t)
	ctx := t.Context()
	hs.SetServingStatus("tia.x.v1.X", healthpb.HealthCheckResponse_NOT_SERVING)
	if err := healthcheck.Check(ctx, cc, ""); err != nil {
		t.Errorf("whole server: %v", err)
	}
	if err := healthcheck.Check(ctx, cc, "tia.x.v1.X"); err == nil || !strings.Contains(err.Error(), "NOT_SERVING") {
		t.Errorf("service not serving: %v; want its status", err)
	}
	if err := healthcheck.Check(ctx, cc, "tia.unknown.v1.Y"); err == nil {
		t.Error("unknown service: no error")
	}
}

// TestWait: it returns once the service serves; it gives up when the
// context ends, with the last answer, and at once when gone says so.
func TestWait(t *testing.T) {
	hs, cc := serve(t)
	hs.SetServingStatus("tia.x.v1.X", healthpb.HealthCheckResponse_NOT_SERVING)
	go func() {
		time.Sleep(50 * time.Millisecond)
		hs.SetServingStatus("tia.x.v1.X", healthpb.HealthCheckResponse_SERVING)
	}()
	if err := healthcheck.Wait(t.Context(), cc, "tia.x.v1.X", 10*time.Millisecond, nil); err != nil {
		t.Fatalf("Wait: %v", err)
	}

	hs.SetServingStatus("tia.x.v1.X", healthpb.HealthCheckResponse_NOT_SERVING)
	// The context ends after the first answer, without a race against a
	// clock: the question cut short by it does not hide that answer.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	asked := 0
	endAfterFirst := func() error {
		if asked++; asked == 2 {
			cancel()
		}
		return nil
	}
	if err := healthcheck.Wait(ctx, cc, "tia.x.v1.X", time.Millisecond, endAfterFirst); err == nil || !strings.Contains(err.Error(), "NOT_SERVING") {
		t.Errorf("Wait after the context ended: %v; want the last answer", err)
	}

	exited := errors.New("process exited")
	if err := healthcheck.Wait(t.Context(), cc, "tia.x.v1.X", time.Hour, func() error { return exited }); !errors.Is(err, exited) {
		t.Errorf("Wait with gone: %v; want %v", err, exited)
	}
}
