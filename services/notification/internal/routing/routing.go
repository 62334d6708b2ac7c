// Package routing decides who must learn of each domain event, and what the
// message says. The rules are one table, so that "who is told what" can be
// read in one place and checked by one test per event type.
package routing

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// Message is what one recipient is told about one event.
type Message struct {
	Recipient       string
	Topic           string
	Title           string
	Body            string
	SubjectResource string
}

// Rule routes one event type.
type Rule struct {
	// Topic names the kind of message, e.g. "activity.registered".
	Topic string
	// New returns an empty event to decode into.
	New func() proto.Message
	// Route turns a decoded event into messages.
	Route func(ev proto.Message) []Message
}

// Rules maps the full protobuf name of each event to its rule.
var Rules = map[string]Rule{
	"tia.activity.v1.ActivityRegistered": {
		Topic: "activity.registered",
		New:   func() proto.Message { return &activityv1.ActivityRegistered{} },
		Route: func(ev proto.Message) []Message {
			a := ev.(*activityv1.ActivityRegistered).GetActivity()
			kommun, _ := refdata.KommunByCode(a.GetKommunCode())
			return []Message{{
				Recipient:       CountyBoard(a.GetLanCode()),
				Title:           fmt.Sprintf("Ny aktivitet i %s: %s", kommun.Name, a.GetTitle()),
				Body:            fmt.Sprintf("%s registrerades för %s–%s med %d platser.", a.GetName(), a.GetStartDate(), a.GetEndDate(), a.GetCapacity()),
				SubjectResource: a.GetName(),
			}}
		},
	},
}

// CountyBoard is the recipient id of the county board of a län.
func CountyBoard(lan string) string { return "lansstyrelse-" + lan }

// RecipientOf is the inbox a principal reads; ok is false for callers that
// have no inbox.
func RecipientOf(p auth.Principal) (string, bool) {
	switch p.Role {
	case auth.RoleCountyBoard:
		return CountyBoard(p.Lan), true
	case auth.RoleMigrationsverket:
		return "migrationsverket", true
	case auth.RoleFolkbildningsradet:
		return "folkbildningsradet", true
	case auth.RoleOrganiser:
		return "organiser-" + p.Org, true
	}
	return "", false
}

// ValidRecipient reports whether id names a recipient that can exist.
func ValidRecipient(id string) bool {
	switch {
	case id == "migrationsverket", id == "folkbildningsradet":
		return true
	case strings.HasPrefix(id, "lansstyrelse-"):
		_, ok := refdata.LanByCode(strings.TrimPrefix(id, "lansstyrelse-"))
		return ok
	case strings.HasPrefix(id, "organiser-"):
		return len(strings.TrimPrefix(id, "organiser-")) == 10
	}
	return false
}
