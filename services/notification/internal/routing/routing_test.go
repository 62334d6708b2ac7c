package routing

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
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
	"tia.activity.v1.ActivityRegistered": {
		event: &activityv1.ActivityRegistered{Activity: &activityv1.Activity{
			Name: "organisers/8020016281/activities/a1", Title: "Svenska", KommunCode: "1480", LanCode: "14", Capacity: 12,
			Focus: []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH}, StartDate: "2026-01-10", EndDate: "2026-06-30",
		}},
		recipients: []string{"lansstyrelse-14"},
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
					if strings.Contains(title+body, "12-345678") {
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

func TestRecipients(t *testing.T) {
	tests := []struct {
		p    auth.Principal
		want string
		ok   bool
	}{
		{auth.Principal{Role: auth.RoleCountyBoard, Lan: "01"}, "lansstyrelse-01", true},
		{auth.Principal{Role: auth.RoleOrganiser, Org: "8020016281"}, "organiser-8020016281", true},
		{auth.Principal{Role: auth.RoleMigrationsverket}, "migrationsverket", true},
		{auth.Principal{Role: auth.RoleAsylumSeeker, Dossier: "12-345678"}, "", false},
	}
	for _, tt := range tests {
		got, ok := RecipientOf(tt.p)
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
	if !MayRead(mv, "migrationsverket-01") || MayRead(mv, "lansstyrelse-01") {
		t.Error("Migrationsverket reads its regional inboxes and no one else's")
	}
	if MayRead(auth.Principal{Role: auth.RoleCountyBoard, Lan: "01"}, "lansstyrelse-12") {
		t.Error("a county board reads another's inbox")
	}
}
