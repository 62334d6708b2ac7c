package domain

import "time"

// Frequency is how often Folkbildningsrådet's report goes to a county board.
type Frequency string

// Report frequencies; the default is monthly.
const (
	Weekly    Frequency = "weekly"
	Monthly   Frequency = "monthly"
	Quarterly Frequency = "quarterly"
)

// ReportPeriod returns the last complete period of frequency f before
// today, as first and last day: the previous week (Monday to Sunday), the
// previous calendar month or the previous calendar quarter. That report is
// due on today.
func ReportPeriod(f Frequency, today time.Time) (from, to string) {
	d := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	var start, end time.Time
	switch f {
	case Weekly:
		monday := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) // this week's Monday
		start, end = monday.AddDate(0, 0, -7), monday.AddDate(0, 0, -1)
	case Quarterly:
		q := time.Date(d.Year(), d.Month()-(d.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC) // this quarter's first day
		start, end = q.AddDate(0, -3, 0), q.AddDate(0, 0, -1)
	default:
		first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		start, end = first.AddDate(0, -1, 0), first.AddDate(0, 0, -1)
	}
	return start.Format(DateLayout), end.Format(DateLayout)
}
