// Package domain is the notification service's model: forum meetings with
// their agenda, minutes and feedback, and who may read them; the rules on
// webhook addresses (no request forgery), subscriptions (no header
// injection) and contacts. Each input check names the field at fault
// (services/platform/badrequest); other refusals are the sentinel errors
// below, which the service's one error table maps to status codes.
package domain

import (
	"net/mail"
	"strings"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

// Subscription is a recipient's choice for one topic, as the rules see it.
type Subscription struct {
	Topic        string
	Email        bool
	Webhook      bool
	EmailAddress string
}

// CheckSubscription checks the topic (against known) and that email has an
// address.
func CheckSubscription(s Subscription, known func(string) bool, topics []string) error {
	var v badrequest.Violations
	if !known(s.Topic) {
		v.Add("name", "unknown topic "+quote(s.Topic)+"; known topics: "+strings.Join(topics, ", "))
	}
	if s.Email && s.EmailAddress == "" {
		v.Add("email_address", "is required with CHANNEL_EMAIL")
	}
	if s.EmailAddress != "" {
		if err := CheckEmail(s.EmailAddress); err != nil {
			v.Add("email_address", "is not an email address (one bare address, no line breaks)")
		}
	}
	return v.Err()
}

// CheckEmail accepts a bare address (no display name). Line breaks and
// other control characters are refused outright: written into a mail
// header, "a@b\r\nBcc: …" would add recipients (header injection).
func CheckEmail(addr string) error {
	if strings.ContainsFunc(addr, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return badrequest.Field("email", "is not an email address: it contains a line break or control character")
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr {
		return badrequest.Field("email", "is not an email address")
	}
	return nil
}

// Level is a meeting's level of cooperation (1..4, as the proto enum).
type Level int32

// The four levels.
const (
	LevelInformation Level = 1
	LevelSamrad      Level = 2
	LevelDialog      Level = 3
	LevelPartnerskap Level = 4
)

// Known reports whether l is one of the four levels.
func (l Level) Known() bool { return l >= LevelInformation && l <= LevelPartnerskap }

// TakesProposals reports whether members may propose agenda items.
func (l Level) TakesProposals() bool { return l == LevelDialog || l == LevelPartnerskap }

// Swedish and English names.
func (l Level) Swedish() string {
	return [...]string{"okänd", "information", "samråd", "dialog", "partnerskap"}[l.index()]
}

// English name.
func (l Level) English() string {
	return [...]string{"unknown", "information", "consultation", "dialogue", "partnership"}[l.index()]
}

func (l Level) index() int {
	if !l.Known() {
		return 0
	}
	return int(l)
}

// Meeting is what the rules check of a planned meeting.
type Meeting struct {
	Title      string
	Level      Level
	Start, End time.Time
}

// CheckMeeting checks the level and that the meeting is in the future and
// ends after it starts. now is the time of the request.
func CheckMeeting(m Meeting, now time.Time) error {
	var v badrequest.Violations
	if strings.TrimSpace(m.Title) == "" {
		v.Add("title", "is required")
	}
	if !m.Level.Known() {
		v.Add("level", "must be one of COOPERATION_LEVEL_INFORMATION, COOPERATION_LEVEL_SAMRAD, COOPERATION_LEVEL_DIALOG, COOPERATION_LEVEL_PARTNERSKAP")
	}
	switch {
	case m.Start.IsZero():
		v.Add("start_time", "is required")
	case m.Start.Before(now):
		v.Add("start_time", "is in the past; a meeting is planned for the future")
	}
	if !m.Start.IsZero() && !m.End.After(m.Start) {
		v.Add("end_time", "must be after start_time")
	}
	return v.Err()
}

func quote(s string) string { return `"` + s + `"` }
