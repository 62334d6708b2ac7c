package domain

import (
	"slices"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

func valid() Activity {
	return Activity{
		Org: "8020016281", ID: "a1", Title: "Svenska för nybörjare", KommunCode: "0180",
		Focus: []Focus{FocusSwedish}, Capacity: 20, StartDate: "2026-01-10", EndDate: "2026-06-10",
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Activity)
		fields []string
	}{
		{name: "valid", change: func(*Activity) {}},
		{name: "one day", change: func(a *Activity) { a.EndDate = a.StartDate }},
		{name: "unknown kommun", change: func(a *Activity) { a.KommunCode = "9999" }, fields: []string{"kommun_code"}},
		{name: "empty title", change: func(a *Activity) { a.Title = "" }, fields: []string{"title"}},
		{name: "zero capacity", change: func(a *Activity) { a.Capacity = 0 }, fields: []string{"capacity"}},
		{name: "negative capacity", change: func(a *Activity) { a.Capacity = -3 }, fields: []string{"capacity"}},
		{name: "no focus", change: func(a *Activity) { a.Focus = nil }, fields: []string{"focus"}},
		{name: "end before start", change: func(a *Activity) { a.EndDate = "2026-01-09" }, fields: []string{"end_date"}},
		{name: "bad date", change: func(a *Activity) { a.StartDate = "2026-02-30" }, fields: []string{"start_date"}},
		{name: "several", change: func(a *Activity) { a.Title = ""; a.Capacity = 0 }, fields: []string{"title", "capacity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid()
			tt.change(&a)
			err := a.Normalize()
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v (err %v)", got, tt.fields, err)
			}
			if err == nil && a.LanCode != "01" {
				t.Fatalf("LanCode = %q, want 01", a.LanCode)
			}
		})
	}
}

func TestStatusOn(t *testing.T) {
	a := valid()
	day := func(s string) time.Time { d, _ := time.Parse(DateLayout, s); return d }
	tests := []struct {
		day  string
		want Status
	}{
		{"2026-01-09", StatusPlanned},
		{"2026-01-10", StatusOngoing},
		{"2026-06-10", StatusOngoing},
		{"2026-06-11", StatusEnded},
	}
	for _, tt := range tests {
		if got := a.StatusOn(day(tt.day)); got != tt.want {
			t.Errorf("StatusOn(%s) = %v, want %v", tt.day, got, tt.want)
		}
	}
}
