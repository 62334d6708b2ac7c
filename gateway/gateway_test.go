package gateway

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
)

// fakeActivity records the metadata of the calls it gets.
type fakeActivity struct {
	activityv1.UnimplementedActivityServiceServer
	md metadata.MD
}

func (f *fakeActivity) GetActivity(ctx context.Context, req *activityv1.GetActivityRequest) (*activityv1.Activity, error) {
	f.md, _ = metadata.FromIncomingContext(ctx)
	return &activityv1.Activity{Name: req.GetName()}, nil
}

// backend serves a health service (and the fake activity service) on loopback.
func backend(t *testing.T, act *fakeActivity) (*health.Server, *grpc.Server, grpc.ClientConnInterface) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	activityv1.RegisterActivityServiceServer(srv, act)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return hs, srv, cc
}

func get(t *testing.T, h http.Handler, path, token string) int {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestReadinessFollowsBackends(t *testing.T) {
	act := &fakeActivity{}
	hsA, _, ccA := backend(t, act)
	_, srvB, ccB := backend(t, &fakeActivity{})
	h, err := New(context.Background(), Backends{Activity: ccA, Statistics: ccB, Travel: ccB, Notification: ccB})
	if err != nil {
		t.Fatal(err)
	}
	if code := get(t, h, "/readyz", ""); code != http.StatusOK {
		t.Fatalf("all up: /readyz = %d", code)
	}
	hsA.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if code := get(t, h, "/readyz", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("activity not serving: /readyz = %d", code)
	}
	hsA.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	srvB.Stop()
	if code := get(t, h, "/readyz", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("backend down: /readyz = %d", code)
	}
	if code := get(t, h, "/healthz", ""); code != http.StatusOK {
		t.Fatalf("/healthz = %d while a backend is down; liveness must not depend on it", code)
	}
}

func TestBearerTokenReachesService(t *testing.T) {
	act := &fakeActivity{}
	_, _, cc := backend(t, act)
	h, err := New(context.Background(), Backends{Activity: cc, Statistics: cc, Travel: cc, Notification: cc})
	if err != nil {
		t.Fatal(err)
	}
	if code := get(t, h, "/v1/organisers/8020038884/activities/a1", "tok"); code != http.StatusOK {
		t.Fatalf("GET = %d", code)
	}
	if got := act.md.Get("authorization"); len(got) != 1 || got[0] != "Bearer tok" {
		t.Fatalf("authorization metadata = %v", got)
	}
	if code := get(t, h, "/openapi.json", ""); code != http.StatusOK {
		t.Fatalf("/openapi.json = %d", code)
	}
}
