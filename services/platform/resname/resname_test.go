package resname

import (
	"slices"
	"testing"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

func TestMatch(t *testing.T) {
	p := New("organisers/{organiser}/activities/{activity}")
	tests := []struct {
		name string
		want []string
		ok   bool
	}{
		{"organisers/8020001234/activities/a1", []string{"8020001234", "a1"}, true},
		{"organisers/-/activities/a1", []string{"-", "a1"}, true},
		{"organisers/8020001234/activities/", nil, false},
		{"organisers/8020001234/activities", nil, false},
		{"organisers/8020001234/activities/a1/certificates/c", nil, false},
		{"lan/01/activities/a1", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, ok := p.Match(tt.name)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("Match(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if _, err := p.Parse("parent", "x"); !slices.Equal(badrequest.Fields(err), []string{"parent"}) {
		t.Errorf("Parse error = %v", err)
	}
	if got := p.Format("1", "2"); got != "organisers/1/activities/2" {
		t.Errorf("Format = %s", got)
	}
}
