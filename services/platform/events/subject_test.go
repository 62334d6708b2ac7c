package events

import "testing"

func TestSubjectMatches(t *testing.T) {
	checkPairs(t, "subjectMatches", subjectMatches, []pairTest{ // pattern, subject
		{"tia.activity.X", "tia.activity.X", true},
		{"tia.activity.X", "tia.activity.Y", false},
		{"tia.activity.*", "tia.activity.Y", true},
		{"tia.activity.*", "tia.activity.Y.Z", false},
		{"tia.>", "tia.activity.Y", true},
		{"tia.>", "tia", false},
		{"p.tia.activity.X", "tia.activity.X", false},
	})
}

// pairTest is the arguments of a func(a, b string) bool and its wanted
// answer.
type pairTest struct {
	a, b string
	want bool
}

// checkPairs checks f, called name in messages, against tests.
func checkPairs(t *testing.T, name string, f func(a, b string) bool, tests []pairTest) {
	t.Helper()
	for _, tt := range tests {
		if got := f(tt.a, tt.b); got != tt.want {
			t.Errorf("%s(%q, %q) = %v, want %v", name, tt.a, tt.b, got, tt.want)
		}
	}
}
