package domain

import (
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

// Agreement is a TIA-överenskommelse between the county board of a län and
// an organiser, for activities within that län.
type Agreement struct {
	LanCode     string
	ID          string
	OrgNumber   string
	SignDate    string
	StartDate   string
	EndDate     string
	EndedDate   string // set when ended early: the last day
	Description string
	CreateTime  time.Time
}

// Name is the agreement's resource name.
func (a Agreement) Name() string { return "lan/" + a.LanCode + "/agreements/" + a.ID }

// LastDay is the agreement's last day: the early end when it was ended,
// otherwise its end date.
func (a Agreement) LastDay() string {
	if a.EndedDate != "" {
		return a.EndedDate
	}
	return a.EndDate
}

// ValidOn reports whether the agreement is in force on day (YYYY-MM-DD).
func (a Agreement) ValidOn(day string) bool { return a.StartDate <= day && day <= a.LastDay() }

// MaxAgreementEnd is the last day an agreement starting on start may run:
// one year, that is the day before the same date a year later.
func MaxAgreementEnd(start time.Time) time.Time { return AddMonths(start, 12).AddDate(0, 0, -1) }

// Normalize checks an agreement being signed today: it starts no
// earlier than the day it is signed, ends no earlier than it starts and runs
// at most one year. Field paths are relative to the agreement.
func (a *Agreement) Normalize(today time.Time) error {
	var v badrequest.Violations
	a.SignDate = today.Format(DateLayout)
	start, errStart := parseDate(&v, "start_date", a.StartDate)
	end, errEnd := parseDate(&v, "end_date", a.EndDate)
	if errStart == nil && a.StartDate < a.SignDate {
		v.Add("start_date", "an agreement cannot start before the day it is signed ("+a.SignDate+")")
	}
	if errStart == nil && errEnd == nil {
		if end.Before(start) {
			v.Add("end_date", "must not be before start_date")
		} else if max := MaxAgreementEnd(start); end.After(max) {
			v.Add("end_date", "an agreement runs at most one year: the last day may be "+max.Format(DateLayout))
		}
	}
	return v.Err()
}

// End checks ending the agreement early, on today, with last day day, and
// records it: before its planned end, not before it starts, and not
// retroactively (not before today). The field path is "end_date".
func (a *Agreement) End(day, today string) error {
	if _, err := time.Parse(DateLayout, day); err != nil {
		return badrequest.Field("end_date", notADate)
	}
	if a.EndedDate != "" {
		return badrequest.Field("end_date", "the agreement was already ended on "+a.EndedDate)
	}
	if day >= a.EndDate {
		return badrequest.Field("end_date", "must be before the agreement's end date "+a.EndDate+" to end it early")
	}
	if day < today {
		return badrequest.Field("end_date", "an agreement cannot be ended retroactively: not before "+today)
	}
	if day < a.StartDate {
		// Ending before it starts: the agreement never ran; its last day is
		// the day before it would have started.
		return badrequest.Field("end_date", "must not be before the agreement's start date "+a.StartDate)
	}
	a.EndedDate = day
	return nil
}

// AddMonths adds n months to t, keeping the day of month where the target
// month has it and otherwise using the month's last day (31 Jan + 1 month
// is 28 or 29 Feb, not 2 or 3 Mar as time.AddDate gives).
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}
