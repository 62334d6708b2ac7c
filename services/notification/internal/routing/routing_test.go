package routing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/pseudonym"
)

// fakeDirectory is the service's own data for the tests: forum members and
// active organisers per län.
type fakeDirectory struct{ forum, organisers map[string][]string }

func (d fakeDirectory) ForumMembers(_ context.Context, lan string) ([]string, error) {
	return d.forum[lan], nil
}

func (d fakeDirectory) Organisers(_ context.Context, lan string) ([]string, error) {
	return d.organisers[lan], nil
}

func (fakeDirectory) AsylumSeeker(dossier string) string { return people.AsylumSeeker(dossier) }

var people = func() Keyed {
	k, err := pseudonym.New([]byte("a test key of the routing tests!"), nil)
	if err != nil {
		panic(err)
	}
	return Keyed{Keys: k}
}()

var directory = fakeDirectory{
	forum: map[string][]string{
		"01": {"lansstyrelse-01", "migrationsverket-01", "organiser-8020038884"},
		"03": {"lansstyrelse-03", "organiser-8176055559"},
	},
	organisers: map[string][]string{
		"01": {"organiser-8020038884", "organiser-8176055559"},
		"03": {"organiser-8176055559"},
	},
}

// examples holds one event of every type and who must be told of it.
var examples = map[string]struct {
	event      proto.Message
	recipients []string
}{
	"tia.activity.v1.OrganiserContactsChanged": {
		event: &activityv1.OrganiserContactsChanged{Organiser: "organisers/8020016281", Lans: []*activityv1.LanParticipantContacts{
			{LanCode: "05", Contacts: []*activityv1.Contact{{Role: activityv1.ContactRole_CONTACT_ROLE_PARTICIPANTS, DisplayName: "Kurser", Email: "kurs@example.org"}}},
		}},
		recipients: nil,
	},
	"tia.activity.v1.ActivityRegistered": {
		event: &activityv1.ActivityRegistered{Activity: &activityv1.Activity{
			Name: "organisers/8020016281/activities/a1", Title: "Svenska", KommunCode: "1480", LanCode: "14", Capacity: 12,
			Focus: []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH}, StartDate: "2026-01-10", EndDate: "2026-06-30",
		}},
		recipients: []string{"lansstyrelse-14"},
	},
	"tia.activity.v1.ActivityStarted": {
		event: &activityv1.ActivityStarted{Activity: &activityv1.Activity{
			Name: "organisers/8020016281/activities/a2", Title: "Hälsa", KommunCode: "2580", LanCode: "25", Capacity: 10,
			Focus: []activityv1.Focus{activityv1.Focus_FOCUS_HEALTH}, StartDate: "2026-02-01", EndDate: "2026-05-31",
		}},
		recipients: []string{"lansstyrelse-25"},
	},
	"tia.activity.v1.ParticipationEnded": {
		event: &activityv1.ParticipationEnded{
			Certificate: "organisers/8020016281/activities/a1/certificates/c1", Activity: "organisers/8020016281/activities/a1",
			DossierNumber: "12-345678", Outcome: activityv1.Participation_PARTICIPATION_DROPPED_OUT,
			EndDate: "2026-03-01", KommunCode: "0180", LanCode: "01",
		},
		recipients: []string{"migrationsverket-01"},
	},
	"tia.statistics.v1.SnapshotPublished": {
		event: &statisticsv1.SnapshotPublished{Snapshot: "snapshots/2026-01-31", ReferenceDate: "2026-01-31", KommunTotals: []*statisticsv1.KommunTotal{
			{KommunCode: "0180", LanCode: "01", Adults: 100}, {KommunCode: "0184", LanCode: "01", Adults: 20}, {KommunCode: "1280", LanCode: "12", Adults: 50},
		}},
		recipients: []string{"lansstyrelse-01", "lansstyrelse-12"},
	},
	"tia.statistics.v1.ProjectionPublished": {
		event: &statisticsv1.ProjectionPublished{Snapshot: "snapshots/2026-01-31", ProjectionDate: "2026-06-30", KommunTotals: []*statisticsv1.KommunTotal{
			{KommunCode: "1280", LanCode: "12", Adults: 80},
		}},
		recipients: []string{"lansstyrelse-12"},
	},
	"tia.travel.v1.RouteDecided": {
		event: &travelv1.RouteDecided{Route: &travelv1.Route{
			Name: "routes/r1", FromKommunCode: "0180", ToKommunCode: "0380", ValidFrom: "2026-02-01", ValidTo: "2026-12-31", DistanceKm: 64,
		}},
		recipients: []string{"lansstyrelse-01", "lansstyrelse-03", "organiser-8020038884", "organiser-8176055559"},
	},
	"tia.travel.v1.RouteRevoked": {
		event: &travelv1.RouteRevoked{Route: &travelv1.Route{
			Name: "routes/r1", FromKommunCode: "0180", ToKommunCode: "0184", ValidFrom: "2026-02-01", ValidTo: "2026-05-31",
		}, RevokedFrom: "2026-06-01"},
		recipients: []string{"lansstyrelse-01", "organiser-8020038884", "organiser-8176055559"},
	},
	"tia.activity.v1.ActivityUpdated": {
		event: &activityv1.ActivityUpdated{Activity: &activityv1.Activity{
			Name: "organisers/8020016281/activities/a1", Title: "Svenska", KommunCode: "0380", LanCode: "03", Capacity: 30,
			StartDate: "2026-01-10", EndDate: "2026-06-30",
		}, ChangedFields: []string{"capacity"}},
		recipients: []string{"lansstyrelse-03"},
	},
	"tia.activity.v1.OrganiserRegistered": {
		event: &activityv1.OrganiserRegistered{Organiser: &activityv1.Organiser{
			Name: "organisers/8020038884", OrgNumber: "8020038884", DisplayName: "Studieförbundet",
			Contacts: []*activityv1.Contact{{DisplayName: "Anna", LanCodes: []string{"01", "03"}}, {DisplayName: "Bo", LanCodes: []string{"03"}}},
		}},
		recipients: []string{"lansstyrelse-01", "lansstyrelse-03"},
	},
	"tia.activity.v1.AgreementSigned": {
		event:      &activityv1.AgreementSigned{Agreement: agreement(""), LanCode: "01"},
		recipients: []string{"organiser-8020038884", "lansstyrelse-01", "migrationsverket-01"},
	},
	"tia.activity.v1.AgreementEnded": {
		event:      &activityv1.AgreementEnded{Agreement: agreement("2026-06-30"), LanCode: "01"},
		recipients: []string{"organiser-8020038884", "lansstyrelse-01", "migrationsverket-01"},
	},
	"tia.activity.v1.FolkbildningReportPublished": {
		event: &activityv1.FolkbildningReportPublished{Report: &activityv1.FolkbildningReport{
			Lan: "lan/12", StartDate: "2026-01-01", EndDate: "2026-03-31", TotalCapacity: 80,
			Activities: []*activityv1.StartedActivity{{Activity: "organisers/8020038884/activities/a1", KommunCode: "1280", Capacity: 80}},
			Kommuner:   []*activityv1.KommunStarts{{KommunCode: "1280", KommunName: "Malmö", Activities: 1, Capacity: 80}},
		}, LanCode: "12"},
		recipients: []string{"lansstyrelse-12"},
	},
	"tia.travel.v1.ConsultationOpened": {
		event: &travelv1.ConsultationOpened{Consultation: &travelv1.Consultation{
			Name: "consultations/c1", Deadline: "2026-03-01", LanCodes: []string{"03"},
			Proposals: []*travelv1.Route{{FromKommunCode: "0381", ToKommunCode: "0380"}},
		}},
		recipients: []string{"lansstyrelse-03", "organiser-8176055559"},
	},
	"tia.travel.v1.ConsultationDecided": {
		event: &travelv1.ConsultationDecided{Consultation: &travelv1.Consultation{
			Name: "consultations/c1", Deadline: "2026-03-01", LanCodes: []string{"03", "01"},
			Proposals: []*travelv1.Route{{FromKommunCode: "0381", ToKommunCode: "0380"}},
			Responses: []*travelv1.ConsultationResponse{
				{Name: "consultations/c1/responses/r1", LanCode: "03", OrgNumber: "8176055559", Comment: "Behövs."},
				{Name: "consultations/c1/responses/r2", LanCode: "03", Comment: "Länsstyrelsen tillstyrker."},
			},
			Decision: &travelv1.ConsultationDecision{Approved: []int32{0}, Reason: "Utbudet i Knivsta räcker inte.",
				Feedback: []*travelv1.Feedback{{Response: "consultations/c1/responses/r1", Text: "Resvägen godkändes."}}},
		}},
		recipients: []string{"organiser-8176055559", "lansstyrelse-03", "lansstyrelse-01"},
	},
	"tia.travel.v1.ClaimDecided": {
		event: &travelv1.ClaimDecided{Claim: &travelv1.Claim{
			Name: "claims/k1", DossierNumber: "12-345678", TripDate: "2026-02-03", FromKommunCode: "0381", ToKommunCode: "0380",
			CostOre: 4500, State: travelv1.ClaimState_CLAIM_STATE_APPROVED,
		}},
		recipients: []string{people.AsylumSeeker("12-345678")},
	},
	"tia.travel.v1.ClaimPaid": {
		event: &travelv1.ClaimPaid{Claim: &travelv1.Claim{
			Name: "claims/k1", DossierNumber: "12-345678/2", TripDate: "2026-02-03", FromKommunCode: "0381", ToKommunCode: "0380",
			State: travelv1.ClaimState_CLAIM_STATE_PAID,
		}, PaymentRun: "paymentRuns/p1", AmountOre: 4500},
		recipients: []string{people.AsylumSeeker("12-345678")},
	},
}

// agreement is the agreement of the AgreementSigned and AgreementEnded
// examples, ended on ended ("" while it runs).
func agreement(ended string) *activityv1.Agreement {
	return &activityv1.Agreement{
		Name: "lan/01/agreements/g1", Organiser: "organisers/8020038884", SignDate: "2026-01-05", StartDate: "2026-01-05", EndDate: "2026-12-31", EndedDate: ended,
	}
}

// TestEveryRule routes one example of every event type, checks who is told,
// and that the message reads well in both languages.
func TestEveryRule(t *testing.T) {
	for name, rule := range Rules {
		t.Run(name, func(t *testing.T) {
			ex, ok := examples[name]
			if !ok {
				t.Fatalf("no example for rule %s", name)
			}
			if got := string(ex.event.ProtoReflect().Descriptor().FullName()); got != name {
				t.Fatalf("example for %s is a %s", name, got)
			}
			if got := string(rule.New().ProtoReflect().Descriptor().FullName()); got != name {
				t.Fatalf("rule decodes into a %s", got)
			}
			msgs, err := rule.Route(context.Background(), ex.event, directory)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range msgs {
				got = append(got, m.Recipient)
				if !ValidRecipient(m.Recipient) {
					t.Errorf("recipient %q cannot exist", m.Recipient)
				}
				if m.SubjectResource == "" {
					t.Errorf("message to %s has no subject resource", m.Recipient)
				}
				for _, lang := range []string{Swedish, English} {
					title, body, err := Render(lang, rule.Topic, m.Data)
					if err != nil {
						t.Fatal(err)
					}
					if title == "" || body == "" || strings.Contains(title+body, "<no value>") {
						t.Errorf("%s in %s reads %q / %q", rule.Topic, lang, title, body)
					}
					if strings.Contains(title+body+m.Recipient, "12-345678") || strings.Contains(title+body, "345678") {
						t.Errorf("%s carries a dossier number: %q", rule.Topic, body)
					}
				}
			}
			if !slices.Equal(got, ex.recipients) {
				t.Errorf("recipients = %v, want %v", got, ex.recipients)
			}
		})
	}
	for name := range examples {
		if _, ok := Rules[name]; !ok {
			t.Errorf("example %s has no rule", name)
		}
	}
}

// TestLanguages: the two languages give different words.
func TestLanguages(t *testing.T) {
	data := map[string]any{"Title": "Regionalt forum", "Start": "2026-03-01 10:00", "End": "12:00", "Lan": "Stockholms län",
		"LevelSv": "dialog", "LevelEn": "dialogue", "Agenda": []string{"Lägesbild", "Resvägar"}, "Location": "Länsstyrelsen"}
	sv, svBody, err := Render(Swedish, TopicMeetingInvited, data)
	if err != nil {
		t.Fatal(err)
	}
	en, enBody, err := Render(English, TopicMeetingInvited, data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sv, "Inbjudan") || !strings.HasPrefix(en, "Invitation") || !strings.Contains(svBody, "2. Resvägar") || !strings.Contains(enBody, "1. Lägesbild") {
		t.Errorf("sv %q %q / en %q %q", sv, svBody, en, enBody)
	}
	if _, _, err := Render(Swedish, TopicMinutesPublished, map[string]any{"Title": "x", "Start": "y", "Minutes": "z"}); err != nil {
		t.Fatal(err)
	}
	if !KnownTopic("travel.route_decided") || !KnownTopic(TopicMeetingInvited) || KnownTopic("travel.nothing") {
		t.Errorf("topics = %v", Topics())
	}
}

// TestPseudonymNeedsTheKey: an asylum seeker's inbox id is an HMAC under the
// deployment's key: the unkeyed hash of old, or the same HMAC under another
// key, does not give it, so it cannot be recomputed from a guessed number.
func TestPseudonymNeedsTheKey(t *testing.T) {
	id := people.AsylumSeeker("12-345678")
	if !ValidRecipient(id) || people.AsylumSeeker("12-345678/2") != id {
		t.Fatalf("id %q: not valid or not the same for the card serial", id)
	}
	other, err := pseudonym.New([]byte("another deployment's secret key!"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if (Keyed{Keys: other}).AsylumSeeker("12-345678") == id {
		t.Fatal("the id is the same under another key")
	}
	sum := sha256.Sum256([]byte("tia-asylum-seeker:12-345678"))
	if strings.Contains(id, hex.EncodeToString(sum[:10])) || strings.Contains(id, "345678") {
		t.Fatalf("id %q is derivable without the key", id)
	}
	if p, ok := PersonOf(id); !ok || p != people.Keys.Of("12-345678") {
		t.Fatalf("PersonOf(%q) = %q, %v: not the audit trail's pseudonym", id, p, ok)
	}
}

func TestRecipients(t *testing.T) {
	tests := []struct {
		p    auth.Principal
		want string
		ok   bool
	}{
		{auth.Principal{Role: auth.RoleCountyBoard, Lan: "01"}, "lansstyrelse-01", true},
		{auth.Principal{Role: auth.RoleOrganiser, Org: "8020016281"}, "organiser-8020016281", true},
		{auth.Principal{Role: auth.RoleMigrationsverket}, "migrationsverket", true},
		{auth.Principal{Role: auth.RoleAsylumSeeker, Dossier: "12-345678"}, people.AsylumSeeker("12-345678"), true},
		{auth.Principal{Role: auth.RoleAsylumSeeker}, "", false},
	}
	for _, tt := range tests {
		got, ok := RecipientOf(tt.p, people)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RecipientOf(%v) = %q, %v", tt.p, got, ok)
		}
		if ok && !ValidRecipient(got) {
			t.Errorf("ValidRecipient(%q) = false", got)
		}
	}
	for _, bad := range []string{"lansstyrelse-99", "organiser-1", "organiser-abcdefghij", "migrationsverket-99", "someone"} {
		if ValidRecipient(bad) {
			t.Errorf("ValidRecipient(%q) = true", bad)
		}
	}
	mv := auth.Principal{Role: auth.RoleMigrationsverket}
	if !MayRead(mv, "migrationsverket-01", people) || MayRead(mv, "lansstyrelse-01", people) {
		t.Error("Migrationsverket reads its regional inboxes and no one else's")
	}
	if MayRead(auth.Principal{Role: auth.RoleCountyBoard, Lan: "01"}, "lansstyrelse-12", people) {
		t.Error("a county board reads another's inbox")
	}
}

// TestEveryEventIsRouted: every event the producers declare (a top-level
// message of their events.proto that no other message there embeds) has a
// rule, so a new event cannot go unrouted unnoticed.
func TestEveryEventIsRouted(t *testing.T) {
	files := []protoreflect.FileDescriptor{
		activityv1.File_tia_activity_v1_events_proto,
		statisticsv1.File_tia_statistics_v1_events_proto,
		travelv1.File_tia_travel_v1_events_proto,
	}
	for _, f := range files {
		msgs := f.Messages()
		embedded := map[protoreflect.FullName]bool{}
		for i := range msgs.Len() {
			fields := msgs.Get(i).Fields()
			for j := range fields.Len() {
				if m := fields.Get(j).Message(); m != nil {
					embedded[m.FullName()] = true
				}
			}
		}
		for i := range msgs.Len() {
			name := msgs.Get(i).FullName()
			if embedded[name] {
				continue
			}
			if _, ok := Rules[string(name)]; !ok {
				t.Errorf("event %s has no routing rule", name)
			}
		}
	}
}
