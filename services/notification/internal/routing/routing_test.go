package routing

import (
	"testing"

	"google.golang.org/protobuf/proto"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/auth"
)

// TestEveryRule routes one example of every event type and checks who is told.
func TestEveryRule(t *testing.T) {
	examples := map[string]struct {
		event      proto.Message
		recipients []string
	}{
		"tia.activity.v1.ActivityRegistered": {
			event: &activityv1.ActivityRegistered{Activity: &activityv1.Activity{
				Name: "organisers/8020016281/activities/a1", Title: "Svenska", KommunCode: "1480", LanCode: "14", Capacity: 12,
			}},
			recipients: []string{"lansstyrelse-14"},
		},
	}
	for name, rule := range Rules {
		ex, ok := examples[name]
		if !ok {
			t.Errorf("no example for rule %s", name)
			continue
		}
		if got := string(ex.event.ProtoReflect().Descriptor().FullName()); got != name {
			t.Errorf("example for %s is a %s", name, got)
		}
		msgs := rule.Route(ex.event)
		if len(msgs) != len(ex.recipients) {
			t.Fatalf("%s: %d messages, want %d", name, len(msgs), len(ex.recipients))
		}
		for i, m := range msgs {
			if m.Recipient != ex.recipients[i] || m.Title == "" || m.SubjectResource == "" {
				t.Errorf("%s: message %d = %+v", name, i, m)
			}
		}
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
	for _, bad := range []string{"lansstyrelse-99", "organiser-1", "someone"} {
		if ValidRecipient(bad) {
			t.Errorf("ValidRecipient(%q) = true", bad)
		}
	}
}
