package travel_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/travel"
)

var (
	migrationsverket = auth.Principal{Subject: "mv-resor", Role: auth.RoleMigrationsverket}
	countyBoard      = auth.Principal{Subject: "lst-norrbotten", Role: auth.RoleCountyBoard, Lan: "25"}
	asylumSeeker     = auth.Principal{Subject: "as-1", Role: auth.RoleAsylumSeeker, Dossier: "12-345678"}
)

func as(p auth.Principal) context.Context { return auth.WithPrincipal(context.Background(), p) }

// newService builds the service as a host would, on a fresh database.
func newService(t *testing.T, dsn string) travelv1.TravelServiceClient {
	t.Helper()
	svc, err := travel.Component.New(hostDeps(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	return travelv1.NewTravelServiceClient(connect(svc))
}

func newRoute(from, to string) *travelv1.Route {
	return &travelv1.Route{
		FromKommunCode: from, ToKommunCode: to, ValidFrom: "2026-01-01", ValidTo: "2026-12-31",
		Reason: "Utbudet i hemkommunen räcker inte.",
	}
}

func TestRoutes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		svc := newService(t, dsn)
		created, err := svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{Route: newRoute("2582", "2580")})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(created.GetName(), "routes/") || created.GetDistanceKm() < 25 || created.GetDistanceKm() > 40 ||
			created.GetCreateTime() == nil || created.GetFromKommunCode() != "2582" || created.GetReason() == "" {
			t.Fatalf("CreateRoute = %v", created)
		}
		got, err := svc.GetRoute(as(asylumSeeker), &travelv1.GetRouteRequest{Name: created.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetName() != created.GetName() || got.GetDistanceKm() != created.GetDistanceKm() ||
			!got.GetCreateTime().AsTime().Equal(created.GetCreateTime().AsTime()) {
			t.Fatalf("GetRoute = %v, want %v", got, created)
		}

		for _, pair := range [][2]string{{"2580", "2584"}, {"0184", "0180"}, {"2584", "2582"}} {
			if _, err := svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{Route: newRoute(pair[0], pair[1])}); err != nil {
				t.Fatal(err)
			}
		}
		// Page through the routes touching Luleå or Boden, two at a time.
		req := &travelv1.ListRoutesRequest{Filter: `kommun_code = "2580" OR kommun_code = "2582"`, PageSize: 2}
		var pairs []string
		for page := 0; ; page++ {
			resp, err := svc.ListRoutes(as(countyBoard), req)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range resp.GetRoutes() {
				pairs = append(pairs, r.GetFromKommunCode()+">"+r.GetToKommunCode())
			}
			if resp.GetNextPageToken() == "" {
				break
			}
			if page > 3 {
				t.Fatal("paging does not end")
			}
			req.PageToken = resp.GetNextPageToken()
		}
		if want := []string{"2582>2580", "2580>2584", "2584>2582"}; !slices.Equal(pairs, want) {
			t.Fatalf("listed %v, want %v (oldest first)", pairs, want)
		}
	})
}

func TestAccess(t *testing.T) {
	svc := newService(t, dbtest.NewSQLite(t))
	created, err := svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{Route: newRoute("0184", "0180")})
	if err != nil {
		t.Fatal(err)
	}
	anonymous := context.Background()
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"county board decides", func() error {
			_, err := svc.CreateRoute(as(countyBoard), &travelv1.CreateRouteRequest{Route: newRoute("2582", "2580")})
			return err
		}, codes.PermissionDenied},
		{"asylum seeker decides", func() error {
			_, err := svc.CreateRoute(as(asylumSeeker), &travelv1.CreateRouteRequest{Route: newRoute("2582", "2580")})
			return err
		}, codes.PermissionDenied},
		{"anonymous decides", func() error {
			_, err := svc.CreateRoute(anonymous, &travelv1.CreateRouteRequest{Route: newRoute("2582", "2580")})
			return err
		}, codes.Unauthenticated},
		{"anonymous gets", func() error {
			_, err := svc.GetRoute(anonymous, &travelv1.GetRouteRequest{Name: created.GetName()})
			return err
		}, codes.Unauthenticated},
		{"anonymous lists", func() error {
			_, err := svc.ListRoutes(anonymous, &travelv1.ListRoutesRequest{})
			return err
		}, codes.Unauthenticated},
		{"get unknown", func() error {
			_, err := svc.GetRoute(as(countyBoard), &travelv1.GetRouteRequest{Name: "routes/0190b6b4-7d1e-7c4a-9f00-2a6b3c4d5e6f"})
			return err
		}, codes.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(tt.call()); got != tt.want {
				t.Fatalf("code = %v, want %v", got, tt.want)
			}
		})
	}
	// Only the one route decided by Migrationsverket exists.
	resp, err := svc.ListRoutes(as(countyBoard), &travelv1.ListRoutesRequest{})
	if err != nil || len(resp.GetRoutes()) != 1 {
		t.Fatalf("ListRoutes = %v, %v", resp, err)
	}
}

func TestInvalidArgument(t *testing.T) {
	svc := newService(t, dbtest.NewSQLite(t))
	create := func(change func(*travelv1.Route)) func() error {
		return func() error {
			r := newRoute("2582", "2580")
			change(r)
			_, err := svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{Route: r})
			return err
		}
	}
	tests := []struct {
		name   string
		call   func() error
		fields []string
	}{
		{"no route", func() error {
			_, err := svc.CreateRoute(as(migrationsverket), &travelv1.CreateRouteRequest{})
			return err
		}, []string{"route"}},
		{"unknown from", create(func(r *travelv1.Route) { r.FromKommunCode = "9999" }), []string{"route.from_kommun_code"}},
		{"unknown to", create(func(r *travelv1.Route) { r.ToKommunCode = "25800" }), []string{"route.to_kommun_code"}},
		{"same kommun", create(func(r *travelv1.Route) { r.ToKommunCode = "2582" }), []string{"route.to_kommun_code"}},
		{"not a date", create(func(r *travelv1.Route) { r.ValidFrom = "2026-04-31" }), []string{"route.valid_from"}},
		{"to before from", create(func(r *travelv1.Route) { r.ValidTo = "2025-12-31" }), []string{"route.valid_to"}},
		{"get bad name", func() error {
			_, err := svc.GetRoute(as(countyBoard), &travelv1.GetRouteRequest{Name: "claims/1"})
			return err
		}, []string{"name"}},
		{"unknown filter field", func() error {
			_, err := svc.ListRoutes(as(countyBoard), &travelv1.ListRoutesRequest{Filter: `lan_code = "25"`})
			return err
		}, []string{"filter"}},
		{"bad page token", func() error {
			_, err := svc.ListRoutes(as(countyBoard), &travelv1.ListRoutesRequest{PageToken: "nonsense"})
			return err
		}, []string{"page_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := badrequest.Fields(tt.call()); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
}
