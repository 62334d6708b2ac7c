// Package clock decides what day it is, once for every service. The
// guidance's dates (a certificate's validity, a trip, an agreement's start)
// are Swedish calendar days, so "today" is reckoned in Europe/Stockholm
// whatever the server's time zone: a certificate issued at 00:30 Swedish
// time backs a claim for a trip that same Swedish day, even though it is
// still yesterday in UTC.
package clock

import (
	"time"
	_ "time/tzdata" // the zone database ships in the binary (distroless images have none)
)

// DateLayout is how dates travel in the API: ISO 8601 calendar dates.
const DateLayout = "2006-01-02"

// Stockholm is the zone every date of the domain is reckoned in.
var Stockholm = mustLoad("Europe/Stockholm")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("clock: " + err.Error()) // time/tzdata is linked in, so this cannot happen
	}
	return loc
}

// Clock tells the time; tests inject a fixed or stepped one.
type Clock func() time.Time

// System is the real clock.
var System Clock = time.Now

// Now returns the current instant (System when c is nil).
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// Today is the Swedish calendar day at c's current instant, as YYYY-MM-DD.
func (c Clock) Today() string { return Day(c.Now()) }

// Day is the Swedish calendar day of instant t, as YYYY-MM-DD.
func Day(t time.Time) string { return t.In(Stockholm).Format(DateLayout) }

// Midnight is the first instant of the Swedish calendar day t falls on.
func Midnight(t time.Time) time.Time {
	y, m, d := t.In(Stockholm).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Stockholm)
}

// ParseDate reads a YYYY-MM-DD date strictly: impossible dates such as
// 2026-02-30 are refused (time.Parse already refuses them; this is the one
// place that says so).
func ParseDate(s string) (time.Time, error) {
	return time.ParseInLocation(DateLayout, s, Stockholm)
}

// Fixed returns a clock that always says t.
func Fixed(t time.Time) Clock { return func() time.Time { return t } }
