// Package domain holds the activity registry's rules as plain Go: what makes
// an activity valid and what state it is in. It knows nothing of gRPC or SQL.
package domain

import (
	"strings"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// DateLayout is how dates travel in the API and are stored: ISO 8601, which
// also sorts correctly as text.
const DateLayout = "2006-01-02"

// notADate is the violation of a field that must hold a date.
const notADate = "must be a date written YYYY-MM-DD"

// parseDate parses the date s that field holds, adding a violation to v when
// it is not one.
func parseDate(v *badrequest.Violations, field, s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		v.Add(field, notADate)
	}
	return t, err
}

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

	Funding   Funding
	Programme Programme
	Agreement string // resource name of the agreement, with FundingAgreement
	Address   string
	Schedule  string
	Languages []string
}

// Funding is what funds an activity.
type Funding string

// Funding bases. The empty Funding means not stated.
const (
	FundingAgreement     Funding = "agreement"
	FundingOrdinance2016 Funding = "sfs_2016_1364"
	FundingOrdinance2015 Funding = "sfs_2015_521"
	FundingJobskills     Funding = "jobskills"
)

// Programme is the activity under förordning (2015:521).
type Programme string

// Programmes under förordning (2015:521).
const (
	ProgrammeSvenskaFranDagEtt Programme = "svenska_fran_dag_ett"
	ProgrammeVardagssvenska    Programme = "vardagssvenska"
)

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
	start, errStart := parseDate(&v, "start_date", a.StartDate)
	end, errEnd := parseDate(&v, "end_date", a.EndDate)
	if errStart == nil && errEnd == nil && end.Before(start) {
		v.Add("end_date", "must not be before start_date")
	}
	if a.Programme != "" && a.Funding != FundingOrdinance2015 {
		v.Add("programme", "a programme belongs to funding under förordning (2015:521) only")
	}
	if a.Funding == FundingOrdinance2015 && a.Programme == "" {
		v.Add("programme", "name the programme: Svenska från dag ett or Vardagssvenska")
	}
	if a.Funding == FundingAgreement && a.Agreement == "" {
		v.Add("agreement", "name the agreement (lan/{lan_code}/agreements/{id}) that funds the activity")
	}
	if a.Funding != FundingAgreement && a.Agreement != "" {
		v.Add("agreement", "only activities funded by an agreement name one")
	}
	for i, l := range a.Languages {
		if len(l) < 2 || len(l) > 3 || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz") != "" {
			v.Add("languages["+itoa(i)+"]", "must be an ISO 639 code such as \"sv\" or \"ar\"")
		}
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

// CheckFunding checks the activity's funding basis against its organiser
// (and, for an agreement, the agreement it names, nil when it does not
// exist). Field paths are relative to the activity.
func (a Activity) CheckFunding(org Organiser, agreement *Agreement) error {
	var v badrequest.Violations
	switch a.Funding {
	case FundingAgreement:
		switch {
		case agreement == nil:
			v.Add("agreement", "no agreement "+quote(a.Agreement))
		case agreement.OrgNumber != a.Org:
			v.Add("agreement", "the agreement is with another organiser")
		case agreement.LanCode != a.LanCode:
			v.Add("agreement", "the agreement is with the county board of län "+agreement.LanCode+
				", the activity is in län "+a.LanCode)
		case agreement.LastDay() < a.StartDate:
			v.Add("agreement", "the agreement ends ("+agreement.LastDay()+") before the activity starts")
		}
	case FundingOrdinance2015:
		if !org.Kind.IsFolkbildning() {
			v.Add("funding_basis", "förordning (2015:521) funds study associations and folk high schools only")
		}
	case FundingJobskills:
		if org.Kind != KindArbetsformedlingen {
			v.Add("funding_basis", "Jobskills activities are Arbetsförmedlingen's")
		}
	}
	return v.Err()
}
