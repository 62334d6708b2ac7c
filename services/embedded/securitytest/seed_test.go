package securitytest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
)

// world holds the names of what the tests seeded through the API: the
// "own" resources of the matrix (län 01, orgA, person A).
type world struct {
	e     *env
	t     *testing.T
	today time.Time
	seq   atomic.Int64

	activities    activityv1.ActivityServiceClient
	statistics    statisticsv1.StatisticsServiceClient
	travel        travelv1.TravelServiceClient
	notifications notificationv1.NotificationServiceClient

	agreement    string // lan/01/agreements/… between the county board of 01 and orgA
	activity     string // orgA's activity in 0180 (Stockholm)
	activityB    string // orgB's activity in 1280 (Malmö)
	certificate  string // orgA's certificate for person A
	route        string // 0184 → 0180
	consultation string // open, on 0380 → 0180 (län 03 and 01)
	claim        string // person A's claim
	snapshot     string // snapshots/…
	planned      string // plannedChanges/…
	meeting      string // lan/01/meetings/… (dialog)
	contact      string // lan/01/contacts/… (the county board's own)
	member       string // lan/01/members/… (orgA)
	webhook      string // recipients/lansstyrelse-01/webhooks/…
	seekerInbox  string // recipients/{pseudonym of person A}
	seekerMsg    string // a message in person A's inbox
	boardMsg     string // a message in the county board of 01's inbox
	run          string // a completed payment run (made on first use)
}

func (w *world) ctx() context.Context { return context.Background() }

// date is today plus days, as YYYY-MM-DD.
func (w *world) date(days int) string { return w.today.AddDate(0, 0, days).Format("2006-01-02") }

// uniq is a short id unique within the test run.
func (w *world) uniq() int64 { return w.seq.Add(1) }

func (w *world) must(err error, what string) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("seed %s: %v", what, err)
	}
}

// created calls a Create method as pr and returns the new resource's name.
func created[Req any, Res interface{ GetName() string }](w *world, what string, pr auth.Principal,
	create func(context.Context, Req, ...grpc.CallOption) (Res, error), req Req) string {
	w.t.Helper()
	res, err := create(w.ctx(), req, w.e.as(w.t, pr))
	w.must(err, what)
	return res.GetName()
}

// seed builds the world through the API as the actors themselves would.
func seed(t *testing.T, e *env) *world {
	t.Helper()
	w := &world{e: e, t: t, today: time.Now(),
		activities:    activityv1.NewActivityServiceClient(e.p.Channel),
		statistics:    statisticsv1.NewStatisticsServiceClient(e.p.Channel),
		travel:        travelv1.NewTravelServiceClient(e.p.Channel),
		notifications: notificationv1.NewNotificationServiceClient(e.p.Channel),
	}
	ctx := w.ctx()
	for _, o := range []struct {
		pr   auth.Principal
		name string
		kind activityv1.OrganiserKind
	}{
		{principalOrgA, "Studieförbundet Säkerhet", activityv1.OrganiserKind_ORGANISER_KIND_STUDY_ASSOCIATION},
		{principalOrgB, "Folkhögskolan Säkerhet", activityv1.OrganiserKind_ORGANISER_KIND_FOLK_HIGH_SCHOOL},
	} {
		_, err := w.activities.CreateOrganiser(ctx, &activityv1.CreateOrganiserRequest{Organiser: &activityv1.Organiser{
			OrgNumber: o.pr.Org, DisplayName: o.name, Kind: o.kind,
			Contacts: []*activityv1.Contact{{Role: activityv1.ContactRole_CONTACT_ROLE_REGIONAL, DisplayName: "Samordnare", Email: "tia@" + o.pr.Org + ".example"}},
		}}, e.as(t, o.pr))
		w.must(err, "organiser")
	}
	w.agreement = created(w, "agreement", principalCB01, w.activities.CreateAgreement, &activityv1.CreateAgreementRequest{Parent: "lan/01", Agreement: &activityv1.Agreement{
		Organiser: "organisers/" + orgA, StartDate: w.date(0), EndDate: w.date(300), Description: "Språkinsatser i Stockholms län",
	}})
	w.activity = w.newActivity(principalOrgA, "0180")
	w.activityB = w.newActivity(principalOrgB, "1280")
	w.certificate = w.newCertificate(dossierA)

	w.route = created(w, "route", principalMV, w.travel.CreateRoute, &travelv1.CreateRouteRequest{Route: &travelv1.Route{
		FromKommunCode: "0184", ToKommunCode: "0180", ValidFrom: w.date(-30), ValidTo: w.date(300), Reason: "Utbudet räcker inte.",
	}})
	w.consultation = w.newConsultation()
	w.claim = w.newClaim(principalSeekA)

	w.snapshot = w.newSnapshot()
	w.planned = w.newPlannedChange()

	board := e.as(t, principalCB01)
	for _, m := range []*notificationv1.ForumMember{
		{Recipient: "lansstyrelse-01", DisplayName: "Länsstyrelsen i Stockholms län"},
		{Recipient: "migrationsverket-01", DisplayName: "Migrationsverket, region Stockholm"},
		{Recipient: "organiser-" + orgA, DisplayName: "Studieförbundet Säkerhet"},
	} {
		name := created(w, "forum member", principalCB01, w.notifications.CreateForumMember, &notificationv1.CreateForumMemberRequest{Parent: "lan/01", Member: m})
		if strings.HasSuffix(m.GetRecipient(), orgA) {
			w.member = name
		}
	}
	w.meeting = w.newMeeting()
	_, err := w.notifications.UpdateMeeting(ctx, &notificationv1.UpdateMeetingRequest{
		Meeting:    &notificationv1.Meeting{Name: w.meeting, Minutes: "Protokoll: gapet i Norrtälje diskuterades."},
		UpdateMask: mask("minutes"),
	}, board)
	w.must(err, "minutes")
	w.contact = w.newContact()
	w.webhook = w.newWebhook()

	// Messages reach inboxes through events: wait for one in the county
	// board's inbox (the activities registered) and one in person A's
	// (their certificate or claim).
	w.boardMsg = w.waitMessage(principalCB01, "recipients/lansstyrelse-01")
	w.seekerMsg = w.waitMessage(principalSeekA, "recipients/me")
	w.seekerInbox = w.seekerMsg[:strings.Index(w.seekerMsg, "/messages/")]
	return w
}

func mask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

func (w *world) waitMessage(pr auth.Principal, parent string) string {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := w.notifications.ListMessages(w.ctx(), &notificationv1.ListMessagesRequest{Parent: parent}, w.e.as(w.t, pr))
		w.must(err, "messages of "+parent)
		if len(list.GetMessages()) > 0 {
			return list.GetMessages()[0].GetName()
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("seed: no message reached %s (%s)", parent, pr.Subject)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The constructors below make a fresh resource each, for rows whose
// allowed callers change or consume it.

func (w *world) newActivity(pr auth.Principal, kommun string) string {
	w.t.Helper()
	return created(w, "activity", pr, w.activities.CreateActivity, &activityv1.CreateActivityRequest{
		Parent:   "organisers/" + pr.Org,
		Activity: activityBody(w, kommun),
	})
}

// activityBody is a valid activity of the ordinance 2015:521 (so its
// organiser may issue certificates without an agreement).
func activityBody(w *world, kommun string) *activityv1.Activity {
	return &activityv1.Activity{
		Title: "Svenska från dag ett", KommunCode: kommun, Focus: []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH}, Capacity: 20,
		StartDate: w.date(-30), EndDate: w.date(300), FundingBasis: activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2015_521,
		Programme: activityv1.Programme_PROGRAMME_SVENSKA_FRAN_DAG_ETT, Languages: []string{"sv", "ar"}, Address: "Storgatan 1",
	}
}

// newCertificate is orgA's certificate for the person with the dossier.
func (w *world) newCertificate(dossier string) string {
	w.t.Helper()
	return created(w, "certificate", principalOrgA, w.activities.CreateCertificate, &activityv1.CreateCertificateRequest{
		Parent: w.activity, Certificate: &activityv1.Certificate{DossierNumber: dossier},
	})
}

func (w *world) newAgreement() string {
	w.t.Helper()
	return created(w, "agreement", principalCB01, w.activities.CreateAgreement, &activityv1.CreateAgreementRequest{Parent: "lan/01", Agreement: &activityv1.Agreement{
		Organiser: "organisers/" + orgA, StartDate: w.date(0), EndDate: w.date(200), Description: "Ytterligare överenskommelse",
	}})
}

func (w *world) newRoute() string {
	w.t.Helper()
	n := w.uniq()
	return created(w, "route", principalMV, w.travel.CreateRoute, &travelv1.CreateRouteRequest{Route: &travelv1.Route{
		FromKommunCode: "0114", ToKommunCode: "0180", ValidFrom: w.date(int(-n)), ValidTo: w.date(200), Reason: fmt.Sprintf("Beslut %d", n),
	}})
}

func (w *world) newConsultation() string {
	w.t.Helper()
	return created(w, "consultation", principalMV, w.travel.CreateConsultation, &travelv1.CreateConsultationRequest{Consultation: &travelv1.Consultation{
		Description: "Förslag: resor från Uppsala till Stockholm ersätts.", Deadline: w.date(14),
		Proposals: []*travelv1.Route{{FromKommunCode: "0380", ToKommunCode: "0180", ValidFrom: w.date(21), ValidTo: w.date(300), Reason: "Inga platser i Uppsala."}},
	}})
}

// newClaim files a claim for a trip within Stockholm to the seeded
// activity; as Migrationsverket it is filed on person A's behalf.
func (w *world) newClaim(pr auth.Principal) string {
	w.t.Helper()
	c := &travelv1.Claim{
		TripDate: w.date(0), FromKommunCode: "0180", ToKommunCode: "0180", Activity: w.activity, Certificate: w.certificate,
		DistanceKm: 9, CostOre: 3900 + w.uniq(), TicketType: travelv1.TicketType_TICKET_TYPE_SINGLE,
	}
	if pr.Role == auth.RoleMigrationsverket {
		c.DossierNumber = dossierA
	}
	return created(w, "claim", pr, w.travel.CreateClaim, &travelv1.CreateClaimRequest{RequestId: fmt.Sprintf("sec-%d", w.uniq()), Claim: c})
}

// newSnapshot imports a small snapshot on a reference date of its own.
func (w *world) newSnapshot() string {
	w.t.Helper()
	return created(w, "snapshot", principalMV, w.statistics.ImportSnapshot, &statisticsv1.ImportSnapshotRequest{Name: w.snapshotName(), Cells: cells()})
}

func cells() []*statisticsv1.Cell {
	var out []*statisticsv1.Cell
	for i, k := range []string{"0180", "0184", "1280", "0380"} {
		out = append(out, &statisticsv1.Cell{KommunCode: k, HousingType: statisticsv1.HousingType_HOUSING_TYPE_ABE,
			Sex: statisticsv1.Sex_SEX_KVINNA, AgeBand: statisticsv1.AgeBand_AGE_BAND_25_34, Count: int64(40 + i*7)})
	}
	return out
}

func (w *world) newPlannedChange() string {
	w.t.Helper()
	return created(w, "planned change", principalMV, w.statistics.CreatePlannedChange, &statisticsv1.CreatePlannedChangeRequest{PlannedChange: &statisticsv1.PlannedChange{
		KommunCode: "0180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_ABE, EffectiveDate: w.date(45), AdultsDelta: 50,
		Description: "Nytt boende",
	}})
}

func (w *world) newMeeting() string {
	w.t.Helper()
	day := w.today.AddDate(0, 0, 14)
	start := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, time.UTC)
	return created(w, "meeting", principalCB01, w.notifications.CreateMeeting, &notificationv1.CreateMeetingRequest{Parent: "lan/01", Meeting: &notificationv1.Meeting{
		Title: "Regionalt samverkansforum", Level: notificationv1.CooperationLevel_COOPERATION_LEVEL_DIALOG,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(2 * time.Hour)), Location: "Stockholm",
		Agenda: []*notificationv1.AgendaItem{{Title: "Lägesbild"}},
	}})
}

func (w *world) newContact() string {
	w.t.Helper()
	return created(w, "contact", principalCB01, w.notifications.CreateContact, &notificationv1.CreateContactRequest{Parent: "lan/01", Contact: &notificationv1.Contact{
		Actor: "lansstyrelse-01", ActorDisplayName: "Länsstyrelsen i Stockholms län", Function: fmt.Sprintf("Samordnare %d", w.uniq()),
		Email: "tia@lansstyrelsen.example",
	}})
}

func (w *world) newMember() string {
	w.t.Helper()
	return created(w, "forum member", principalCB01, w.notifications.CreateForumMember, &notificationv1.CreateForumMemberRequest{Parent: "lan/01", Member: &notificationv1.ForumMember{
		Recipient: "folkbildningsradet", DisplayName: "Folkbildningsrådet",
	}})
}

func (w *world) newWebhook() string {
	w.t.Helper()
	return created(w, "webhook", principalCB01, w.notifications.CreateWebhook, &notificationv1.CreateWebhookRequest{Parent: "recipients/lansstyrelse-01", Webhook: &notificationv1.Webhook{
		Url: w.e.hookURL, Description: "Ärendesystem",
	}})
}
