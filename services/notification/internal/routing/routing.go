// Package routing decides who must learn of each domain event, and what the
// message says. The rules are one table (Rules, below), so that "who is told
// what" can be read in one place and checked by one test per event type.
//
// A rule names its recipients by role and scope: the county board of a län,
// Migrationsverket's regional contact for a län, Folkbildningsrådet, one
// organiser, or a group that only this service's own data can resolve (all
// members of a län's regional forum, the organisers active in a län), which
// it asks the Directory for. The words of a message come from the templates
// in templates/, in Swedish and English.
package routing

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/platform/resname"
)

// Message is what one recipient is told about one event, before it is put
// into words in the recipient's language.
type Message struct {
	Recipient       string
	SubjectResource string
	// Data fills the topic's templates.
	Data map[string]any
	// Dossier is the dossier number of the person whose inbox Recipient is
	// (empty for organisations): for the audit trail only, never stored or
	// shown.
	Dossier string
}

// Directory resolves groups of recipients from the notification service's
// own data.
type Directory interface {
	// ForumMembers are the recipients who are members of the regional forum
	// of a län.
	ForumMembers(ctx context.Context, lan string) ([]string, error)
	// Organisers are the organisers known to be active in a län (they
	// registered activities there, or sit in its forum).
	Organisers(ctx context.Context, lan string) ([]string, error)
	People
}

// People names the inbox of a person.
type People interface {
	// AsylumSeeker is the recipient id of the asylum seeker with a dossier
	// number.
	AsylumSeeker(dossier string) string
}

// Keyed names asylum seekers' inboxes by a keyed pseudonym of the dossier
// number (an HMAC under the deployment's secret): the number never appears
// in resource names, URLs or logs, and the id cannot be recomputed from a
// guessed number without the key. The suffix is the same pseudonym the
// audit trail records the person under.
type Keyed struct{ Keys *pseudonym.Keyer }

// AsylumSeeker implements People.
func (k Keyed) AsylumSeeker(dossier string) string { return AsylumSeekerPrefix + k.Keys.Of(dossier) }

// AsylumSeekerPrefix starts every asylum seeker's recipient id.
const AsylumSeekerPrefix = "asylsokande-"

// PersonOf is the pseudonym inside an asylum seeker's recipient id, ok
// false for any other recipient.
func PersonOf(recipient string) (string, bool) {
	return strings.CutPrefix(recipient, AsylumSeekerPrefix)
}

// Rule routes one event type.
type Rule struct {
	// Topic names the kind of message, e.g. "activity.registered";
	// recipients choose channels and language per topic.
	Topic string
	// New returns an empty event to decode into.
	New func() proto.Message
	// Route turns a decoded event into messages, one per recipient.
	Route func(ctx context.Context, ev proto.Message, dir Directory) ([]Message, error)
}

// Recipients by role and scope.

// CountyBoard is the recipient id of the county board of a län.
func CountyBoard(lan string) string { return "lansstyrelse-" + lan }

// MigrationsverketRegion is Migrationsverket's regional contact for a län.
func MigrationsverketRegion(lan string) string { return "migrationsverket-" + lan }

// Migrationsverket is Migrationsverket's national inbox.
const Migrationsverket = "migrationsverket"

// Folkbildningsradet is Folkbildningsrådet's inbox.
const Folkbildningsradet = "folkbildningsradet"

// Organiser is the recipient id of one organiser.
func Organiser(org string) string { return "organiser-" + org }

// OrganiserOf is the organiser of a resource named organisers/{org} or
// organisers/{org}/activities/{activity} ("" for any other name).
func OrganiserOf(resource string) string {
	for _, p := range organiserResources {
		if v, ok := p.Match(resource); ok {
			return Organiser(v[0])
		}
	}
	return ""
}

var organiserResources = []resname.Pattern{
	resname.New("organisers/{organiser}"),
	resname.New("organisers/{organiser}/activities/{activity}"),
	resname.New("organisers/{organiser}/activities/{activity}/certificates/{certificate}"),
}

// Topics that are not made from events but from the forum's own work.
const (
	TopicMeetingInvited   = "forum.meeting_invited"
	TopicMinutesPublished = "forum.minutes_published"
)

// Topics lists every topic a recipient can subscribe to.
func Topics() []string {
	out := []string{TopicMeetingInvited, TopicMinutesPublished}
	for _, r := range Rules {
		if r.Topic != "" && !slices.Contains(out, r.Topic) {
			out = append(out, r.Topic)
		}
	}
	slices.Sort(out)
	return out
}

// KnownTopic reports whether topic is one of Topics.
func KnownTopic(topic string) bool { return topic != "" && slices.Contains(Topics(), topic) }

// RecipientOf is the inbox a principal reads first; ok is false for callers
// that have no inbox.
func RecipientOf(p auth.Principal, people People) (string, bool) {
	switch p.Role {
	case auth.RoleCountyBoard:
		return CountyBoard(p.Lan), true
	case auth.RoleMigrationsverket:
		return Migrationsverket, true
	case auth.RoleFolkbildningsradet:
		return Folkbildningsradet, true
	case auth.RoleOrganiser:
		return Organiser(p.Org), true
	case auth.RoleAsylumSeeker:
		if p.Dossier != "" {
			return people.AsylumSeeker(p.Dossier), true
		}
	}
	return "", false
}

// MayRead reports whether p may read (and manage) recipient's inbox,
// subscriptions and webhooks. Migrationsverket's staff read the national
// inbox and every regional one.
func MayRead(p auth.Principal, recipient string, people People) bool {
	if own, ok := RecipientOf(p, people); ok && own == recipient {
		return true
	}
	if p.Role == auth.RoleMigrationsverket && strings.HasPrefix(recipient, "migrationsverket-") {
		return ValidRecipient(recipient)
	}
	return false
}

// ValidActor reports whether id names an organisation (not a person): one
// that can sit in a forum or be listed in a contact directory.
func ValidActor(id string) bool {
	return ValidRecipient(id) && !strings.HasPrefix(id, AsylumSeekerPrefix)
}

// ValidRecipient reports whether id names a recipient that can exist.
func ValidRecipient(id string) bool {
	switch {
	case id == Migrationsverket, id == Folkbildningsradet:
		return true
	case strings.HasPrefix(id, "lansstyrelse-"):
		_, ok := refdata.LanByCode(strings.TrimPrefix(id, "lansstyrelse-"))
		return ok
	case strings.HasPrefix(id, "migrationsverket-"):
		_, ok := refdata.LanByCode(strings.TrimPrefix(id, "migrationsverket-"))
		return ok
	case strings.HasPrefix(id, AsylumSeekerPrefix):
		h := strings.TrimPrefix(id, AsylumSeekerPrefix)
		_, err := hex.DecodeString(h)
		return len(h) == 32 && err == nil && strings.ToLower(h) == h
	case strings.HasPrefix(id, "organiser-"):
		org := strings.TrimPrefix(id, "organiser-")
		if len(org) != 10 {
			return false
		}
		for _, c := range org {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	return false
}

// LanOf is the län of a county board's or of Migrationsverket's regional
// inbox ("" for any other recipient).
func LanOf(recipient string) string {
	for _, prefix := range []string{"lansstyrelse-", "migrationsverket-"} {
		if lan, ok := strings.CutPrefix(recipient, prefix); ok {
			return lan
		}
	}
	return ""
}

// kommunName is the name of a kommun, or its code when unknown.
func kommunName(code string) string {
	if k, ok := refdata.KommunByCode(code); ok {
		return k.Name
	}
	return code
}

// lanName is the name of a län, or its code when unknown.
func lanName(code string) string {
	if l, ok := refdata.LanByCode(code); ok {
		return l.Name
	}
	return code
}

// lanOf is the län of a kommun code (its first two digits).
func lanOf(kommun string) string {
	if len(kommun) < 2 {
		return ""
	}
	return kommun[:2]
}

// to builds messages with the same data for each recipient, once each, in
// the order given.
func to(subject string, data map[string]any, recipients ...string) []Message {
	var out []Message
	seen := map[string]bool{}
	for _, r := range recipients {
		if r == "" || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, Message{Recipient: r, SubjectResource: subject, Data: data})
	}
	return out
}

// group appends the members of a directory group to recipients.
func group(ctx context.Context, recipients []string, fn func(context.Context, string) ([]string, error), lans ...string) ([]string, error) {
	for _, lan := range lans {
		more, err := fn(ctx, lan)
		if err != nil {
			return nil, fmt.Errorf("resolve recipients in län %s: %w", lan, err)
		}
		recipients = append(recipients, more...)
	}
	return recipients, nil
}
