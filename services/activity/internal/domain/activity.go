// Package domain holds the activity registry's rules as plain Go: what makes
// an activity valid and what state it is in. It knows nothing of gRPC or SQL.
package domain

import (
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// DateLayout is how dates travel in the API and are stored: ISO 8601, which
// also sorts correctly as text.
const DateLayout = "2006-01-02"

// Focus areas of an activity.
type Focus string

// The focus areas the guidance names.
const (
	FocusSwedish      Focus = "swedish"
	FocusSociety      Focus = "society"
	FocusLabourMarket Focus = "labour_market"
	FocusHealth       Focus = "health"
)

// Status of an activity on a given day.
type Status int

// Statuses, in the order an activity passes through them.
const (
	StatusPlanned Status = iota + 1
	StatusOngoing
	StatusEnded
)

// Activity is one activity of an organiser.
type Activity struct {
	Org        string // organisation number of the organiser
	ID         string
	Title      string
	KommunCode string
	LanCode    string
	Focus      []Focus
	Capacity   int32
	StartDate  string
	EndDate    string
	CreateTime time.Time
	UpdateTime time.Time
}

// Name is the activity's resource name.
func (a Activity) Name() string { return "organisers/" + a.Org + "/activities/" + a.ID }

// Normalize checks the rules that the protos cannot declare and fills the
// fields derived from others (the län from the kommun). Field paths in the
// error are relative to the activity.
func (a *Activity) Normalize() error {
	var v badrequest.Violations
	if a.Title == "" {
		v.Add("title", "must not be empty")
	}
	if k, ok := refdata.KommunByCode(a.KommunCode); ok {
		a.LanCode = k.LanCode
	} else {
		v.Add("kommun_code", "unknown kommun code "+quote(a.KommunCode))
	}
	if len(a.Focus) == 0 {
		v.Add("focus", "name at least one focus")
	}
	if a.Capacity <= 0 {
		v.Add("capacity", "must be greater than 0")
	}
	start, errStart := time.Parse(DateLayout, a.StartDate)
	if errStart != nil {
		v.Add("start_date", "must be a date written YYYY-MM-DD")
	}
	end, errEnd := time.Parse(DateLayout, a.EndDate)
	if errEnd != nil {
		v.Add("end_date", "must be a date written YYYY-MM-DD")
	}
	if errStart == nil && errEnd == nil && end.Before(start) {
		v.Add("end_date", "must not be before start_date")
	}
	return v.Err()
}

// StatusOn is the activity's status on day (only its date counts).
func (a Activity) StatusOn(day time.Time) Status {
	today := day.Format(DateLayout)
	switch {
	case today < a.StartDate:
		return StatusPlanned
	case today > a.EndDate:
		return StatusEnded
	default:
		return StatusOngoing
	}
}

func quote(s string) string { return "\"" + s + "\"" }
