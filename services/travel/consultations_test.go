package travel_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/travel"
)

func proposal(from, to string) *travelv1.Route {
	return &travelv1.Route{FromKommunCode: from, ToKommunCode: to, ValidFrom: "2026-04-01", ValidTo: "2026-12-31", Reason: "Tunt utbud."}
}

func TestConsultation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, travel.Options{})
		c, err := e.svc.CreateConsultation(as(migrationsverket), &travelv1.CreateConsultationRequest{Consultation: &travelv1.Consultation{
			Proposals: []*travelv1.Route{proposal("2582", "2580"), proposal("2584", "2580")},
			Deadline:  "2026-03-31", Description: "Resor till SFI i Luleå.",
		}})
		if err != nil {
			t.Fatal(err)
		}
		if c.GetState() != travelv1.ConsultationState_CONSULTATION_STATE_OPEN || !slices.Equal(c.GetLanCodes(), []string{"25"}) ||
			c.GetProposals()[0].GetDistanceKm() < 20 {
			t.Fatalf("opened %v", c)
		}
		// The county board of Norrbotten and an organiser respond; Stockholm's may not.
		stockholm := auth.Principal{Subject: "lst-ab", Role: auth.RoleCountyBoard, Lan: "01"}
		organiser := auth.Principal{Subject: "org", Role: auth.RoleOrganiser, Org: "8020038884"}
		respond := func(p auth.Principal, stance travelv1.Stance) (*travelv1.ConsultationResponse, error) {
			return e.svc.CreateConsultationResponse(as(p), &travelv1.CreateConsultationResponseRequest{
				Parent: c.GetName(), Response: &travelv1.ConsultationResponse{Stance: stance, Comment: "Synpunkt."}})
		}
		if _, err := respond(stockholm, travelv1.Stance_STANCE_SUPPORT); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("other län responds: %v", err)
		}
		if _, err := respond(asylumSeeker, travelv1.Stance_STANCE_SUPPORT); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("asylum seeker responds: %v", err)
		}
		r1, err := respond(countyBoard, travelv1.Stance_STANCE_SUPPORT)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := respond(organiser, travelv1.Stance_STANCE_OBJECT)
		if err != nil {
			t.Fatal(err)
		}
		// A decision without feedback on every response is refused.
		_, err = e.svc.DecideConsultation(as(migrationsverket), &travelv1.DecideConsultationRequest{
			Name: c.GetName(), Approved: []int32{0},
			Feedback: []*travelv1.Feedback{{Response: r1.GetName(), Text: "Tack, beaktat."}},
		})
		if got := badrequest.Fields(err); !slices.Equal(got, []string{"feedback"}) {
			t.Fatalf("decision missing feedback: fields %v (%v)", got, err)
		}
		if _, err := e.svc.DecideConsultation(as(migrationsverket), &travelv1.DecideConsultationRequest{
			Name: c.GetName(), Approved: []int32{5},
			Feedback: []*travelv1.Feedback{{Response: r1.GetName(), Text: "a"}, {Response: r2.GetName(), Text: "b"}},
		}); !slices.Equal(badrequest.Fields(err), []string{"approved[0]"}) {
			t.Fatalf("bad index: %v", err)
		}
		routes, _ := e.svc.ListRoutes(as(migrationsverket), &travelv1.ListRoutesRequest{})
		if len(routes.GetRoutes()) != 0 {
			t.Fatal("a refused decision created routes")
		}
		decided, err := e.svc.DecideConsultation(as(migrationsverket), &travelv1.DecideConsultationRequest{
			Name: c.GetName(), Approved: []int32{0}, Reason: "Boden–Luleå beviljas; Piteå har eget utbud.",
			Feedback: []*travelv1.Feedback{
				{Response: r1.GetName(), Text: "Tack, beviljas."},
				{Response: r2.GetName(), Text: "Invändningen gällde Piteå, som inte beviljas."},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if decided.GetState() != travelv1.ConsultationState_CONSULTATION_STATE_DECIDED || len(decided.GetDecision().GetRoutes()) != 1 ||
			len(decided.GetResponses()) != 2 || len(decided.GetDecision().GetFeedback()) != 2 {
			t.Fatalf("decided %v", decided)
		}
		route, err := e.svc.GetRoute(as(asylumSeeker), &travelv1.GetRouteRequest{Name: decided.GetDecision().GetRoutes()[0]})
		if err != nil || route.GetConsultation() != c.GetName() || route.GetFromKommunCode() != "2582" {
			t.Fatalf("route %v, %v", route, err)
		}
		// Closed: no more responses or decisions.
		if _, err := respond(countyBoard, travelv1.Stance_STANCE_COMMENT); !slices.Equal(badrequest.Fields(err), []string{"parent"}) {
			t.Fatalf("respond to a decided consultation: %v", err)
		}
		if _, err := e.svc.DecideConsultation(as(migrationsverket), &travelv1.DecideConsultationRequest{Name: c.GetName()}); !slices.Equal(badrequest.Fields(err), []string{"name"}) {
			t.Fatalf("decide a decided consultation: %v", err)
		}
		// Revoke the route from a date; travel on it after that has no route.
		revoked, err := e.svc.RevokeRoute(as(migrationsverket), &travelv1.RevokeRouteRequest{Name: route.GetName(), RevokedFrom: "2026-09-01"})
		if err != nil || revoked.GetValidTo() != "2026-08-31" || revoked.GetRevokedFrom() != "2026-09-01" {
			t.Fatalf("revoked %v, %v", revoked, err)
		}
		if _, err := e.svc.RevokeRoute(as(migrationsverket), &travelv1.RevokeRouteRequest{Name: route.GetName(), RevokedFrom: "2026-08-01"}); !slices.Equal(badrequest.Fields(err), []string{"name"}) {
			t.Fatalf("revoke twice: %v", err)
		}
		// Events: one opened, one decided, one route decided, one revoked.
		var subjects []string
		if err := e.db.Select(&subjects, "SELECT subject FROM outbox ORDER BY seq"); err != nil {
			t.Fatal(err)
		}
		want := []string{travel.SubjectConsultationOpened, travel.SubjectRouteDecided, travel.SubjectConsultationDecided, travel.SubjectRouteRevoked}
		if !slices.Equal(subjects, want) {
			t.Fatalf("events %v, want %v", subjects, want)
		}
		// A response after the deadline is refused.
		c2, err := e.svc.CreateConsultation(as(migrationsverket), &travelv1.CreateConsultationRequest{Consultation: &travelv1.Consultation{
			Proposals: []*travelv1.Route{proposal("0184", "0180")}, Deadline: "2026-03-20"}})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.add(6 * 24 * time.Hour)
		if _, err := e.svc.CreateConsultationResponse(as(organiser), &travelv1.CreateConsultationResponseRequest{
			Parent: c2.GetName(), Response: &travelv1.ConsultationResponse{Stance: travelv1.Stance_STANCE_SUPPORT}}); !slices.Equal(badrequest.Fields(err), []string{"parent"}) {
			t.Fatalf("respond after the deadline: %v", err)
		}
	})
}

func TestConsultationBadInput(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), travel.Options{})
	bad := proposal("2582", "2580")
	bad.ValidTo = "2026-03-01"
	_, err := e.svc.CreateConsultation(as(migrationsverket), &travelv1.CreateConsultationRequest{Consultation: &travelv1.Consultation{
		Proposals: []*travelv1.Route{proposal("2582", "9999"), bad}, Deadline: "2026-03-01"}})
	want := []string{"consultation.proposals[0].to_kommun_code", "consultation.proposals[1].valid_to", "consultation.deadline"}
	if got := badrequest.Fields(err); !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
	if _, err := e.svc.CreateConsultation(as(countyBoard), &travelv1.CreateConsultationRequest{Consultation: &travelv1.Consultation{
		Proposals: []*travelv1.Route{proposal("2582", "2580")}, Deadline: "2026-04-01"}}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("county board opens: %v", err)
	}
	var n int
	if err := e.db.Get(&n, "SELECT COUNT(*) FROM consultations"); err != nil || n != 0 {
		t.Fatalf("%d consultations stored", n)
	}
}
