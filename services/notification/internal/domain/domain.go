// Package domain holds the notification service's rules on input: webhook
// addresses, subscriptions, forum meetings and contacts. Each check names the
// field at fault (services/platform/badrequest).
package domain

import (
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

// CheckWebhookURL accepts an absolute https URL; plain http only in
// development mode (loopback test receivers).
func CheckWebhookURL(raw string, development bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return badrequest.Field("url", "must be an absolute https URL")
	}
	if u.Scheme == "http" && !development {
		return badrequest.Field("url", "must use https (plain http is accepted only when the platform runs in development mode)")
	}
	if u.User != nil {
		return badrequest.Field("url", "must not carry credentials; the request is signed instead")
	}
	return nil
}

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
			v.Add("email_address", "is not an email address")
		}
	}
	return v.Err()
}

// CheckEmail accepts a bare address (no display name).
func CheckEmail(addr string) error {
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
