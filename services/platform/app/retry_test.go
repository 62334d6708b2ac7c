package app

import (
	"context"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	auditv1 "github.com/tia-platform/tia/proto/gen/tia/audit/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
)

// flaky answers the first call of each method UNAVAILABLE, as an instance
// does that goes away after it did the work, and records what it got.
type flaky struct {
	activityv1.UnimplementedActivityServiceServer
	travelv1.UnimplementedTravelServiceServer
	mu    sync.Mutex
	calls map[string]int
	ids   []string
}

// Both services serve the shared audit-trail methods; one answer for both
// settles which embedded server's is meant.
func (f *flaky) SearchAuditEntries(context.Context, *auditv1.SearchAuditEntriesRequest) (*auditv1.SearchAuditEntriesResponse, error) {
	return nil, status.Error(codes.Unimplemented, "not in this test")
}

func (f *flaky) VerifyAuditTrail(context.Context, *auditv1.VerifyAuditTrailRequest) (*auditv1.VerifyAuditTrailResponse, error) {
	return nil, status.Error(codes.Unimplemented, "not in this test")
}

func (f *flaky) first(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	return f.calls[method] == 1
}

func (f *flaky) GetActivity(_ context.Context, req *activityv1.GetActivityRequest) (*activityv1.Activity, error) {
	if f.first("GetActivity") {
		return nil, status.Error(codes.Unavailable, "going away")
	}
	return &activityv1.Activity{Name: req.GetName()}, nil
}

func (f *flaky) UpdateActivity(context.Context, *activityv1.UpdateActivityRequest) (*activityv1.Activity, error) {
	f.first("UpdateActivity")
	return nil, status.Error(codes.Unavailable, "going away after changing it")
}

func (f *flaky) CreateClaim(_ context.Context, req *travelv1.CreateClaimRequest) (*travelv1.Claim, error) {
	f.mu.Lock()
	f.ids = append(f.ids, req.GetRequestId())
	f.mu.Unlock()
	if f.first("CreateClaim") {
		return nil, status.Error(codes.Unavailable, "going away after creating it")
	}
	return &travelv1.Claim{}, nil
}

// TestRetriesOnlyWhatCannotDouble (issue 13.2): reads and calls with a
// request id are retried on UNAVAILABLE, other writes are not; every
// attempt of a call carries the same request id.
func TestRetriesOnlyWhatCannotDouble(t *testing.T) {
	f := &flaky{calls: map[string]int{}}
	srv := grpc.NewServer()
	activityv1.RegisterActivityServiceServer(srv, f)
	travelv1.RegisterTravelServiceServer(srv, f)
	cc := serve(t, srv)
	ctx := context.Background()

	if _, err := activityv1.NewActivityServiceClient(cc).GetActivity(ctx, &activityv1.GetActivityRequest{Name: "organisers/x/activities/y"}); err != nil {
		t.Fatalf("a read is retried: %v", err)
	}
	// UpdateActivity carries no request id (an update with a field mask
	// applied twice may undo a change made in between).
	_, err := activityv1.NewActivityServiceClient(cc).UpdateActivity(ctx, &activityv1.UpdateActivityRequest{})
	if status.Code(err) != codes.Unavailable || f.calls["UpdateActivity"] != 1 {
		t.Fatalf("a write without request id: %v after %d calls, want UNAVAILABLE after 1", err, f.calls["UpdateActivity"])
	}
	req := &travelv1.CreateClaimRequest{}
	if _, err := travelv1.NewTravelServiceClient(cc).CreateClaim(ctx, req); err != nil {
		t.Fatalf("a create with a request id is retried: %v", err)
	}
	if len(f.ids) != 2 || f.ids[0] == "" || f.ids[0] != f.ids[1] {
		t.Fatalf("request ids of the attempts: %q, want one non-empty id twice", f.ids)
	}
	if req.GetRequestId() != "" {
		t.Fatalf("the caller's request was changed: %q", req.GetRequestId())
	}
}
