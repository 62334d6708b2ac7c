package domain

import (
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest/badrequesttest"
)

func valid() Activity {
	return Activity{
		Org: "8020016281", ID: "a1", Title: "Svenska för nybörjare", KommunCode: "0180",
		Focus: []Focus{FocusSwedish}, Capacity: 20, StartDate: "2026-01-10", EndDate: "2026-06-10",
	}
}

func TestNormalize(t *testing.T) {
	badrequesttest.Run(t, valid, (*Activity).Normalize, []badrequesttest.Case[Activity]{
		{Name: "valid", Change: func(*Activity) {}},
		{Name: "one day", Change: func(a *Activity) { a.EndDate = a.StartDate }},
		{Name: "unknown kommun", Change: func(a *Activity) { a.KommunCode = "9999" }, Fields: []string{"kommun_code"}},
		{Name: "empty title", Change: func(a *Activity) { a.Title = "" }, Fields: []string{"title"}},
		{Name: "zero capacity", Change: func(a *Activity) { a.Capacity = 0 }, Fields: []string{"capacity"}},
		{Name: "negative capacity", Change: func(a *Activity) { a.Capacity = -3 }, Fields: []string{"capacity"}},
		{Name: "no focus", Change: func(a *Activity) { a.Focus = nil }, Fields: []string{"focus"}},
		{Name: "end before start", Change: func(a *Activity) { a.EndDate = "2026-01-09" }, Fields: []string{"end_date"}},
		{Name: "bad date", Change: func(a *Activity) { a.StartDate = "2026-02-30" }, Fields: []string{"start_date"}},
		{Name: "several", Change: func(a *Activity) { a.Title = ""; a.Capacity = 0 }, Fields: []string{"title", "capacity"}},
	}, func(t *testing.T, a Activity, err error) {
		if err == nil && a.LanCode != "01" {
			t.Fatalf("LanCode = %q, want 01", a.LanCode)
		}
	})
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
