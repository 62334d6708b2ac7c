package domain

import (
	"slices"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

func TestWebhookURL(t *testing.T) {
	tests := []struct {
		url   string
		dev   bool
		field string
	}{
		{"https://example.org/hook", false, ""},
		{"http://127.0.0.1:9999/hook", true, ""},
		{"http://127.0.0.1:9999/hook", false, "url"},
		{"ftp://example.org/x", true, "url"},
		{"/relative", true, "url"},
		{"https://user:pw@example.org/x", false, "url"},
	}
	for _, tt := range tests {
		err := CheckWebhookURL(tt.url, tt.dev)
		if got := badrequest.Fields(err); (tt.field == "" && err != nil) || (tt.field != "" && !slices.Contains(got, tt.field)) {
			t.Errorf("CheckWebhookURL(%q, %v) = %v", tt.url, tt.dev, err)
		}
	}
}

func TestSubscription(t *testing.T) {
	known := func(s string) bool { return s == "activity.registered" }
	tests := []struct {
		s     Subscription
		field string
	}{
		{Subscription{Topic: "activity.registered"}, ""},
		{Subscription{Topic: "activity.registered", Email: true, EmailAddress: "a@example.org"}, ""},
		{Subscription{Topic: "nope"}, "name"},
		{Subscription{Topic: "activity.registered", Email: true}, "email_address"},
		{Subscription{Topic: "activity.registered", EmailAddress: "Anna <a@example.org>"}, "email_address"},
	}
	for _, tt := range tests {
		err := CheckSubscription(tt.s, known, []string{"activity.registered"})
		if got := badrequest.Fields(err); (tt.field == "" && err != nil) || (tt.field != "" && !slices.Contains(got, tt.field)) {
			t.Errorf("CheckSubscription(%+v) = %v", tt.s, err)
		}
	}
}

func TestMeeting(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ok := Meeting{Title: "Forum", Level: LevelDialog, Start: now.Add(24 * time.Hour), End: now.Add(26 * time.Hour)}
	tests := []struct {
		name   string
		change func(*Meeting)
		field  string
	}{
		{"fine", func(*Meeting) {}, ""},
		{"unknown level", func(m *Meeting) { m.Level = 7 }, "level"},
		{"no level", func(m *Meeting) { m.Level = 0 }, "level"},
		{"in the past", func(m *Meeting) { m.Start = now.Add(-time.Hour); m.End = now }, "start_time"},
		{"ends before start", func(m *Meeting) { m.End = m.Start.Add(-time.Minute) }, "end_time"},
		{"no title", func(m *Meeting) { m.Title = " " }, "title"},
	}
	for _, tt := range tests {
		m := ok
		tt.change(&m)
		err := CheckMeeting(m, now)
		if got := badrequest.Fields(err); (tt.field == "" && err != nil) || (tt.field != "" && !slices.Contains(got, tt.field)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if !LevelPartnerskap.TakesProposals() || LevelSamrad.TakesProposals() || Level(9).Swedish() != "okänd" || LevelSamrad.Swedish() != "samråd" {
		t.Error("levels")
	}
}
