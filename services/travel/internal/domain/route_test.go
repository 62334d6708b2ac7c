package domain

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

func valid() Route {
	return Route{
		ID: "r1", FromKommunCode: "2582", ToKommunCode: "2580",
		ValidFrom: "2026-01-01", ValidTo: "2026-12-31", Reason: "Inget utbud i Boden.",
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Route)
		fields []string
	}{
		{name: "valid", change: func(*Route) {}},
		{name: "one day", change: func(r *Route) { r.ValidTo = r.ValidFrom }},
		{name: "no reason", change: func(r *Route) { r.Reason = "" }},
		{name: "unknown from", change: func(r *Route) { r.FromKommunCode = "9999" }, fields: []string{"from_kommun_code"}},
		{name: "unknown to", change: func(r *Route) { r.ToKommunCode = "" }, fields: []string{"to_kommun_code"}},
		{name: "same kommun", change: func(r *Route) { r.ToKommunCode = r.FromKommunCode }, fields: []string{"to_kommun_code"}},
		{name: "bad from date", change: func(r *Route) { r.ValidFrom = "2026-02-29" }, fields: []string{"valid_from"}},
		{name: "bad to date", change: func(r *Route) { r.ValidTo = "31/12/2026" }, fields: []string{"valid_to"}},
		{name: "to before from", change: func(r *Route) { r.ValidTo = "2025-12-31" }, fields: []string{"valid_to"}},
		{name: "long reason", change: func(r *Route) { r.Reason = strings.Repeat("å", 2001) }, fields: []string{"reason"}},
		{name: "reason at limit", change: func(r *Route) { r.Reason = strings.Repeat("å", 2000) }},
		{
			name:   "several",
			change: func(r *Route) { r.FromKommunCode = "0000"; r.ValidFrom = "" },
			fields: []string{"from_kommun_code", "valid_from"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.change(&r)
			err := r.Normalize()
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v (err %v)", got, tt.fields, err)
			}
			// Boden to Luleå: some 30 km between the seats.
			if err == nil && (r.DistanceKm < 25 || r.DistanceKm > 40) {
				t.Fatalf("DistanceKm = %v", r.DistanceKm)
			}
		})
	}
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
