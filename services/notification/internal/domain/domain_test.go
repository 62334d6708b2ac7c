package domain

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

// TestWebhookURL: public https URLs pass; every spelling of an address
// that is not public is refused at creation, whatever the mode, unless it
// is on the allow-list of development receivers.
func TestWebhookURL(t *testing.T) {
	allowed := func(host, port string) bool { return host == "127.0.0.1" && port == "9999" }
	dev := WebhookPolicy{PlainHTTP: true, Allowed: allowed}
	prod := WebhookPolicy{Allowed: allowed}
	tests := []struct {
		url    string
		policy WebhookPolicy
		field  string
	}{
		{"https://example.org/hook", prod, ""},
		{"https://93.184.215.14/hook", prod, ""},
		{"https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook", prod, ""},
		{"http://127.0.0.1:9999/hook", prod, ""}, // allow-listed
		{"http://example.org/hook", dev, ""},
		{"http://example.org/hook", prod, "url"},
		{"https://127.0.0.1:9998/hook", dev, "url"}, // loopback, not on the list
		{"ftp://example.org/x", dev, "url"},
		{"/relative", dev, "url"},
		{"https://user:pw@example.org/x", prod, "url"},
	}
	for _, bad := range []string{
		"127.0.0.1", "127.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "017700000001",
		"10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
		"[::1]", "[::]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[fe80::1]", "[fc00::1]", "[fd12:3456::1]", "[ff02::1]",
		"[64:ff9b::a00:1]", "[2002:7f00:1::]",
		"localhost", "LOCALHOST", "api.localhost", "metadata.google.internal", "metadata", "service.internal", "printer.local",
	} {
		tests = append(tests, struct {
			url    string
			policy WebhookPolicy
			field  string
		}{"https://" + bad + "/hook", dev, "url"})
	}
	for _, tt := range tests {
		err := CheckWebhookURL(tt.url, tt.policy)
		if got := badrequest.Fields(err); (tt.field == "" && err != nil) || (tt.field != "" && !slices.Contains(got, tt.field)) {
			t.Errorf("CheckWebhookURL(%q) = %v", tt.url, err)
		}
	}
}

// TestForbidden: the address classes the dialer refuses.
func TestForbidden(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "10.1.2.3", "169.254.169.254", "100.100.100.200", "::ffff:10.0.0.1", "fe80::1", "fc00::1", "::", "ff05::2", "192.0.2.1"} {
		if !Forbidden(netip.MustParseAddr(s)) {
			t.Errorf("%s is not forbidden", s)
		}
	}
	for _, s := range []string{"93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"} {
		if Forbidden(netip.MustParseAddr(s)) {
			t.Errorf("%s is forbidden", s)
		}
	}
}

// TestEmailHeaderInjection: an address with a line break never passes.
func TestEmailHeaderInjection(t *testing.T) {
	for _, bad := range []string{"a@b.se\r\nBcc: victim@example.org", "a@b.se\nBcc: x@y.se", "a@b.se\r", "a@b.se\x00", "a@b.se, c@d.se", "Anna <a@b.se>"} {
		if err := CheckEmail(bad); err == nil {
			t.Errorf("CheckEmail(%q) accepted", bad)
		}
		err := CheckSubscription(Subscription{Topic: "t", Email: true, EmailAddress: bad}, func(string) bool { return true }, nil)
		if got := badrequest.Fields(err); !slices.Contains(got, "email_address") {
			t.Errorf("subscription with %q: %v", bad, err)
		}
	}
	if err := CheckEmail("kansli@lansstyrelsen.se"); err != nil {
		t.Fatal(err)
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
