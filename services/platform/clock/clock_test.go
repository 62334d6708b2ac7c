package clock

import (
	"testing"
	"time"
)

func TestToday(t *testing.T) {
	tests := []struct {
		utc  string
		want string
	}{
		{"2026-06-01T21:30:00Z", "2026-06-01"}, // 23:30 CEST
		{"2026-06-01T22:30:00Z", "2026-06-02"}, // 00:30 CEST: already tomorrow in Sweden
		{"2026-12-01T23:30:00Z", "2026-12-02"}, // 00:30 CET
		{"2026-12-01T22:59:59Z", "2026-12-01"},
	}
	for _, tt := range tests {
		at, _ := time.Parse(time.RFC3339, tt.utc)
		if got := Fixed(at).Today(); got != tt.want {
			t.Errorf("Today at %s = %s, want %s", tt.utc, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2026-02-30", "2026-13-01", "26-01-01", "2026-1-1", ""} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted an impossible date", s)
		}
	}
	if _, err := ParseDate("2028-02-29"); err != nil {
		t.Errorf("leap day refused: %v", err)
	}
}
