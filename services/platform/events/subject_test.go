package events

import "testing"

func TestSubjectMatches(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"tia.activity.X", "tia.activity.X", true},
		{"tia.activity.X", "tia.activity.Y", false},
		{"tia.activity.*", "tia.activity.Y", true},
		{"tia.activity.*", "tia.activity.Y.Z", false},
		{"tia.>", "tia.activity.Y", true},
		{"tia.>", "tia", false},
		{"p.tia.activity.X", "tia.activity.X", false},
	}
	for _, tt := range tests {
		if got := subjectMatches(tt.pattern, tt.subject); got != tt.want {
			t.Errorf("subjectMatches(%q, %q) = %v", tt.pattern, tt.subject, got)
		}
	}
}
