package travel_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/travel"
)

const (
	activityName = "organisers/8020038884/activities/svenska-1"
	certName     = activityName + "/certificates/intyg-1"
)

// fakeRegistry stands in for the activity registry's CheckCertificate.
type fakeRegistry struct {
	mu    sync.Mutex
	err   error
	valid func(*activityv1.CheckCertificateRequest) []string
	calls int
	auth  []string
	// active maps organisation numbers to the kommuner of their activities;
	// activeErr, when set, is ListActivities' answer.
	active    map[string][]string
	activeErr error
}

func (f *fakeRegistry) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if md, ok := metadata.FromOutgoingContext(ctx); ok {
		f.auth = append(f.auth, md.Get("authorization")...)
	}
	if method == activityv1.ActivityService_ListActivities_FullMethodName {
		return f.listActivities(args.(*activityv1.ListActivitiesRequest), reply.(*activityv1.ListActivitiesResponse))
	}
	if method != activityv1.ActivityService_CheckCertificate_FullMethodName {
		return status.Error(codes.Unimplemented, method)
	}
	if f.err != nil {
		return f.err
	}
	req := args.(*activityv1.CheckCertificateRequest)
	var reasons []string
	if f.valid != nil {
		reasons = f.valid(req)
	}
	proto.Merge(reply.(*activityv1.CheckCertificateResponse), &activityv1.CheckCertificateResponse{Valid: len(reasons) == 0, Reasons: reasons})
	return nil
}

// listActivities answers whether the organiser has an activity in one of
// the kommuner the filter names: one activity per match, or NotFound for an
// organiser the registry does not know.
func (f *fakeRegistry) listActivities(req *activityv1.ListActivitiesRequest, resp *activityv1.ListActivitiesResponse) error {
	if f.activeErr != nil {
		return f.activeErr
	}
	org := strings.TrimPrefix(req.GetParent(), "organisers/")
	kommuner, ok := f.active[org]
	if !ok {
		return status.Error(codes.NotFound, req.GetParent()+" not found")
	}
	for _, k := range kommuner {
		if strings.Contains(req.GetFilter(), fmt.Sprintf("kommun_code = %q", k)) {
			resp.Activities = append(resp.Activities, &activityv1.Activity{Name: req.GetParent() + "/activities/a-" + k, KommunCode: k})
		}
	}
	return nil
}

func (f *fakeRegistry) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "no streams")
}

func (f *fakeRegistry) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	svc   travelv1.TravelServiceClient
	srv   *travel.Service
	db    *sqlx.DB
	reg   *fakeRegistry
	clock *clock
}

var countyBoardStockholm = auth.Principal{Subject: "lst-ab", Role: auth.RoleCountyBoard, Lan: "01"}

var today = time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, dsn string, opts travel.Options) *env {
	t.Helper()
	deps := hostDeps(t, dsn)
	d := deps.DB
	e := &env{db: d, reg: &fakeRegistry{active: map[string][]string{"8020038884": {"0180", "2580"}}}, clock: &clock{t: today}}
	opts.Now = e.clock.now
	if opts.RegistryTimeout == 0 {
		opts.RegistryTimeout = 200 * time.Millisecond
	}
	opts.ServiceToken = func(context.Context) (string, error) { return "service-token", nil }
	deps.Peer = func(string) (grpc.ClientConnInterface, error) { return e.reg, nil }
	svc, err := travel.NewComponent(opts).New(deps)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = svc.(*travel.Service)
	e.svc = travelv1.NewTravelServiceClient(connect(svc))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.srv.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

func newClaim(mod ...func(*travelv1.Claim)) *travelv1.Claim {
	c := &travelv1.Claim{
		DossierNumber: "12-345678", TripDate: "2026-03-12", FromKommunCode: "0180", ToKommunCode: "0180",
		Activity: activityName, Certificate: certName, DistanceKm: 8.5, CostOre: 3900,
		TicketType: travelv1.TicketType_TICKET_TYPE_SINGLE,
	}
	for _, m := range mod {
		m(c)
	}
	return c
}

func (e *env) submit(t *testing.T, p auth.Principal, c *travelv1.Claim) *travelv1.Claim {
	t.Helper()
	out, err := e.svc.CreateClaim(as(p), &travelv1.CreateClaimRequest{Claim: c})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestClaimChecks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, travel.Options{})
		e.reg.valid = func(r *activityv1.CheckCertificateRequest) []string {
			if r.GetName() != certName {
				return []string{"CERTIFICATE_NOT_FOUND"}
			}
			if r.GetDate() < "2026-01-01" {
				return []string{"NOT_VALID_ON_DATE"}
			}
			return nil
		}
		// A route Stockholm–Lidingö for the first half of March.
		if _, err := e.svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{Route: &travelv1.Route{
			FromKommunCode: "0180", ToKommunCode: "0186", ValidFrom: "2026-03-01", ValidTo: "2026-03-15", Reason: "r"}}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			claim   *travelv1.Claim
			state   travelv1.ClaimState
			reasons []string
		}{
			{"passes", newClaim(), travelv1.ClaimState_CLAIM_STATE_APPROVED, nil},
			{"certificate unknown", newClaim(func(c *travelv1.Claim) {
				c.Certificate = activityName + "/certificates/other"
				c.TripDate = "2026-03-11"
			}), travelv1.ClaimState_CLAIM_STATE_IN_REVIEW, []string{"CERTIFICATE_NOT_FOUND"}},
			{"certificate not valid then", newClaim(func(c *travelv1.Claim) { c.TripDate = "2025-12-30" }),
				travelv1.ClaimState_CLAIM_STATE_IN_REVIEW, []string{"NOT_VALID_ON_DATE"}},
			{"too short", newClaim(func(c *travelv1.Claim) { c.DistanceKm = 1.9; c.TripDate = "2026-03-10" }),
				travelv1.ClaimState_CLAIM_STATE_IN_REVIEW, []string{"TOO_SHORT"}},
			{"route on the date, reverse direction", newClaim(func(c *travelv1.Claim) {
				c.FromKommunCode, c.ToKommunCode, c.TripDate = "0186", "0180", "2026-03-09"
			}), travelv1.ClaimState_CLAIM_STATE_APPROVED, nil},
			{"no route on the date", newClaim(func(c *travelv1.Claim) {
				c.FromKommunCode, c.ToKommunCode = "0186", "0180"
				c.TripDate = "2026-03-16"
			}), travelv1.ClaimState_CLAIM_STATE_IN_REVIEW, []string{"NO_ROUTE"}},
			{"same day and direction again", newClaim(), travelv1.ClaimState_CLAIM_STATE_IN_REVIEW, []string{"DUPLICATE_TRIP"}},
			{"other direction same day", newClaim(func(c *travelv1.Claim) {
				c.FromKommunCode, c.ToKommunCode = "0180", "0186"
				c.TripDate = "2026-03-09"
			}), travelv1.ClaimState_CLAIM_STATE_APPROVED, nil},
			{"too expensive", newClaim(func(c *travelv1.Claim) { c.CostOre = 50001; c.TripDate = "2026-03-08" }),
				travelv1.ClaimState_CLAIM_STATE_IN_REVIEW, []string{"COST_ABOVE_MAXIMUM"}},
			{"too late", newClaim(func(c *travelv1.Claim) { c.TripDate = "2026-01-02" }),
				travelv1.ClaimState_CLAIM_STATE_APPROVED, nil},
			{"too late by a day", newClaim(func(c *travelv1.Claim) { c.TripDate = "2025-12-15" }),
				travelv1.ClaimState_CLAIM_STATE_IN_REVIEW, []string{"NOT_VALID_ON_DATE", "SUBMITTED_LATE"}},
		}
		for _, tt := range tests {
			got := e.submit(t, asylumSeeker, tt.claim)
			if got.GetState() != tt.state || !slices.Equal(got.GetReasons(), tt.reasons) {
				t.Errorf("%s: state %v reasons %v, want %v %v", tt.name, got.GetState(), got.GetReasons(), tt.state, tt.reasons)
			}
		}
		if want := "Bearer service-token"; e.reg.auth[0] != want {
			t.Fatalf("registry called with %q, want the service token", e.reg.auth[0])
		}
	})
}

func TestClaimPendingWhileRegistryUnreachable(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), travel.Options{})
	for i, code := range []codes.Code{codes.Unimplemented, codes.Unavailable, codes.DeadlineExceeded} {
		e.reg.set(status.Error(code, "down"))
		c := e.submit(t, asylumSeeker, newClaim(func(c *travelv1.Claim) { c.TripDate = fmt.Sprintf("2026-03-0%d", i+1) }))
		if c.GetState() != travelv1.ClaimState_CLAIM_STATE_PENDING || !slices.Equal(c.GetReasons(), []string{"REGISTRY_UNREACHABLE"}) {
			t.Fatalf("%v: %v %v, want pending", code, c.GetState(), c.GetReasons())
		}
	}
	calls := e.reg.calls
	if calls != 1+3+3 {
		t.Fatalf("registry asked %d times, want 7 (Unavailable and DeadlineExceeded retried thrice)", calls)
	}
	// Still down: nothing changes.
	if n := e.srv.RecheckPending(context.Background()); n != 0 {
		t.Fatalf("decided %d while the registry is down", n)
	}
	e.reg.set(nil)
	if n := e.srv.RecheckPending(context.Background()); n != 3 {
		t.Fatalf("decided %d, want 3", n)
	}
	list, err := e.svc.ListClaims(as(asylumSeeker), &travelv1.ListClaimsRequest{Filter: `state = "APPROVED"`})
	if err != nil || len(list.GetClaims()) != 3 {
		t.Fatalf("approved after re-check: %v %v", list, err)
	}
}

func TestClaimIdempotencyAndScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, travel.Options{})
		req := &travelv1.CreateClaimRequest{Claim: newClaim(func(c *travelv1.Claim) { c.DossierNumber = "" }), RequestId: "retry-1"}
		first, err := e.svc.CreateClaim(as(asylumSeeker), req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.CreateClaim(as(asylumSeeker), req)
		if err != nil || again.GetName() != first.GetName() || again.GetState() != travelv1.ClaimState_CLAIM_STATE_APPROVED {
			t.Fatalf("retry = %v, %v; want %v", again, err, first.GetName())
		}
		// A case officer claims for another asylum seeker; the card serial is dropped.
		other := e.submit(t, migrationsverket, newClaim(func(c *travelv1.Claim) { c.DossierNumber = "98-765432/2" }))
		if other.GetDossierNumber() != "98-765432" {
			t.Fatalf("dossier = %q", other.GetDossierNumber())
		}
		if _, err := e.svc.CreateClaim(as(asylumSeeker), &travelv1.CreateClaimRequest{Claim: newClaim(func(c *travelv1.Claim) {
			c.DossierNumber = "98-765432"
		})}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("claim for someone else: %v", err)
		}
		if _, err := e.svc.GetClaim(as(asylumSeeker), &travelv1.GetClaimRequest{Name: other.GetName()}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("get someone else's claim: %v", err)
		}
		mine, err := e.svc.ListClaims(as(asylumSeeker), &travelv1.ListClaimsRequest{})
		if err != nil || len(mine.GetClaims()) != 1 || mine.GetClaims()[0].GetName() != first.GetName() {
			t.Fatalf("own claims = %v, %v", mine, err)
		}
		stockholm := auth.Principal{Subject: "lst-ab", Role: auth.RoleCountyBoard, Lan: "01"}
		seen, err := e.svc.ListClaims(as(stockholm), &travelv1.ListClaimsRequest{})
		if err != nil || len(seen.GetClaims()) != 2 {
			t.Fatalf("county board claims = %v, %v", seen, err)
		}
		for _, c := range seen.GetClaims() {
			if c.GetDossierNumber() != "" {
				t.Fatal("a county board sees a dossier number")
			}
		}
		if _, err := e.svc.ListClaims(as(stockholm), &travelv1.ListClaimsRequest{Filter: `dossier_number = "98-765432"`}); badrequest.Fields(err) == nil {
			t.Fatalf("county board filters on dossier: %v", err)
		}
		if _, err := e.svc.GetClaim(as(countyBoard), &travelv1.GetClaimRequest{Name: other.GetName()}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("other län's county board: %v", err)
		}
		organiser := auth.Principal{Subject: "org", Role: auth.RoleOrganiser, Org: "8020038884"}
		if _, err := e.svc.ListClaims(as(organiser), &travelv1.ListClaimsRequest{}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("organiser lists claims: %v", err)
		}
	})
}

func TestClaimReview(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), travel.Options{})
	c := e.submit(t, asylumSeeker, newClaim(func(c *travelv1.Claim) { c.DistanceKm = 1 }))
	if c.GetState() != travelv1.ClaimState_CLAIM_STATE_IN_REVIEW {
		t.Fatalf("state %v", c.GetState())
	}
	queue, err := e.svc.ListClaims(as(migrationsverket), &travelv1.ListClaimsRequest{Filter: `state = "IN_REVIEW"`})
	if err != nil || len(queue.GetClaims()) != 1 || !slices.Equal(queue.GetClaims()[0].GetReasons(), []string{"TOO_SHORT"}) {
		t.Fatalf("review queue = %v, %v", queue, err)
	}
	if _, err := e.svc.RejectClaim(as(asylumSeeker), &travelv1.RejectClaimRequest{Name: c.GetName(), Reason: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("asylum seeker rejects: %v", err)
	}
	if _, err := e.svc.RejectClaim(as(migrationsverket), &travelv1.RejectClaimRequest{Name: c.GetName()}); !slices.Equal(badrequest.Fields(err), []string{"reason"}) {
		t.Fatalf("reject without reason: %v", err)
	}
	rejected, err := e.svc.RejectClaim(as(migrationsverket), &travelv1.RejectClaimRequest{Name: c.GetName(), Reason: "Resan är kortare än 2 km."})
	if err != nil || rejected.GetState() != travelv1.ClaimState_CLAIM_STATE_REJECTED {
		t.Fatalf("reject = %v, %v", rejected, err)
	}
	if _, err := e.svc.ApproveClaim(as(migrationsverket), &travelv1.ApproveClaimRequest{Name: c.GetName()}); !slices.Equal(badrequest.Fields(err), []string{"name"}) {
		t.Fatalf("approve a rejected claim: %v", err)
	}
	mine, err := e.svc.GetClaim(as(asylumSeeker), &travelv1.GetClaimRequest{Name: c.GetName()})
	if err != nil || mine.GetDecisionReason() == "" || !slices.Equal(mine.GetReasons(), []string{"TOO_SHORT"}) {
		t.Fatalf("claimant sees %v, %v", mine, err)
	}
}

func TestClaimBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, travel.Options{})
		tests := []struct {
			name   string
			mod    func(*travelv1.Claim)
			fields []string
		}{
			{"bad dossier", func(c *travelv1.Claim) { c.DossierNumber = "12345678" }, []string{"claim.dossier_number"}},
			{"unknown kommun", func(c *travelv1.Claim) { c.ToKommunCode = "0100" }, []string{"claim.to_kommun_code"}},
			{"future trip", func(c *travelv1.Claim) { c.TripDate = "2026-03-17" }, []string{"claim.trip_date"}},
			{"negative cost", func(c *travelv1.Claim) { c.CostOre = -1 }, []string{"claim.cost_ore"}},
			{"no ticket type", func(c *travelv1.Claim) { c.TicketType = 0 }, []string{"claim.ticket_type"}},
			{"several", func(c *travelv1.Claim) { c.FromKommunCode = "9999"; c.DistanceKm = -2 },
				[]string{"claim.from_kommun_code", "claim.distance_km"}},
		}
		for _, tt := range tests {
			_, err := e.svc.CreateClaim(as(migrationsverket), &travelv1.CreateClaimRequest{Claim: newClaim(tt.mod)})
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Errorf("%s: fields %v, want %v (%v)", tt.name, got, tt.fields, err)
			}
			if st, _ := status.FromError(err); st != nil && containsDossier(st.Message()) {
				t.Errorf("%s: error quotes a dossier number", tt.name)
			}
		}
		var n int
		if err := e.db.Get(&n, "SELECT COUNT(*) FROM claims"); err != nil || n != 0 {
			t.Fatalf("%d claims stored after bad input (%v)", n, err)
		}
		if e.reg.calls != 0 {
			t.Fatal("the registry was asked about bad input")
		}
	})
}

func containsDossier(s string) bool {
	for i := 0; i+9 <= len(s); i++ {
		if s[i+2] == '-' && isDigits(s[i:i+2]) && isDigits(s[i+3:i+9]) {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
