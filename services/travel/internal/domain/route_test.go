package domain

import (
	"math"
	"strings"
	"testing"

	"github.com/tia-platform/tia/services/platform/badrequest/badrequesttest"
)

func valid() Route {
	return Route{
		ID: "r1", FromKommunCode: "2582", ToKommunCode: "2580",
		ValidFrom: "2026-01-01", ValidTo: "2026-12-31", Reason: "Inget utbud i Boden.",
	}
}

func TestNormalize(t *testing.T) {
	badrequesttest.Run(t, valid, (*Route).Normalize, []badrequesttest.Case[Route]{
		{Name: "valid", Change: func(*Route) {}},
		{Name: "one day", Change: func(r *Route) { r.ValidTo = r.ValidFrom }},
		{Name: "no reason", Change: func(r *Route) { r.Reason = "" }},
		{Name: "unknown from", Change: func(r *Route) { r.FromKommunCode = "9999" }, Fields: []string{"from_kommun_code"}},
		{Name: "unknown to", Change: func(r *Route) { r.ToKommunCode = "" }, Fields: []string{"to_kommun_code"}},
		{Name: "same kommun", Change: func(r *Route) { r.ToKommunCode = r.FromKommunCode }, Fields: []string{"to_kommun_code"}},
		{Name: "bad from date", Change: func(r *Route) { r.ValidFrom = "2026-02-29" }, Fields: []string{"valid_from"}},
		{Name: "bad to date", Change: func(r *Route) { r.ValidTo = "31/12/2026" }, Fields: []string{"valid_to"}},
		{Name: "to before from", Change: func(r *Route) { r.ValidTo = "2025-12-31" }, Fields: []string{"valid_to"}},
		{Name: "long reason", Change: func(r *Route) { r.Reason = strings.Repeat("å", 2001) }, Fields: []string{"reason"}},
		{Name: "reason at limit", Change: func(r *Route) { r.Reason = strings.Repeat("å", 2000) }},
		{
			Name:   "several",
			Change: func(r *Route) { r.FromKommunCode = "0000"; r.ValidFrom = "" },
			Fields: []string{"from_kommun_code", "valid_from"},
		},
	}, func(t *testing.T, r Route, err error) {
		// Boden to Luleå: some 30 km between the seats.
		if err == nil && (r.DistanceKm < 25 || r.DistanceKm > 40) {
			t.Fatalf("DistanceKm = %v", r.DistanceKm)
		}
	})
}

func TestDistanceIsSymmetric(t *testing.T) {
	a, b := valid(), valid()
	b.FromKommunCode, b.ToKommunCode = a.ToKommunCode, a.FromKommunCode
	if err := a.Normalize(); err != nil {
		t.Fatal(err)
	}
	if err := b.Normalize(); err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.DistanceKm-b.DistanceKm) > 1e-9 {
		t.Fatalf("%v one way, %v the other", a.DistanceKm, b.DistanceKm)
	}
}

func TestParseName(t *testing.T) {
	tests := []struct {
		name, id string
		ok       bool
	}{
		{"routes/0190b6b4-7d1e-7c4a-9f00-2a6b3c4d5e6f", "0190b6b4-7d1e-7c4a-9f00-2a6b3c4d5e6f", true},
		{"routes/r1", "r1", true},
		{"routes/", "", false},
		{"routes/R1", "", false},
		{"routes/a/b", "", false},
		{"claims/r1", "", false},
		{"routes/" + strings.Repeat("a", 64), "", false},
	}
	for _, tt := range tests {
		id, ok := ParseName(tt.name)
		if id != tt.id || ok != tt.ok {
			t.Errorf("ParseName(%q) = %q, %v; want %q, %v", tt.name, id, ok, tt.id, tt.ok)
		}
	}
}
