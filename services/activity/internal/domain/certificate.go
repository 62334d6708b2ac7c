package domain

import (
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/dossier"
)

// Participation is how a certified participation went.
type Participation string

// Participation states.
const (
	ParticipationIssued       Participation = "issued"
	ParticipationStarted      Participation = "started"
	ParticipationDroppedOut   Participation = "dropped_out"
	ParticipationNeverStarted Participation = "never_started"
)

// Ended reports whether the participation has ended.
func (p Participation) Ended() bool {
	return p == ParticipationDroppedOut || p == ParticipationNeverStarted
}

// Certificate is a participation certificate (deltagarintyg).
type Certificate struct {
	Org           string
	ActivityID    string
	ID            string
	Dossier       string
	ValidFrom     string
	ValidTo       string
	Renews        string // name of the certificate this one renews
	RenewedBy     string // name of the certificate that renews this one
	Participation Participation
	EndDate       string
	KommunCode    string
	LanCode       string
	CreateTime    time.Time
}

// Name is the certificate's resource name.
func (c Certificate) Name() string { return c.ActivityName() + "/certificates/" + c.ID }

// ActivityName is the resource name of the certificate's activity.
func (c Certificate) ActivityName() string {
	return "organisers/" + c.Org + "/activities/" + c.ActivityID
}

// ValidityMonths is how long a certificate is valid.
const ValidityMonths = 3

// ValidTo is the last day of a certificate valid from from: three months,
// that is the day before the same date three months later.
func ValidTo(from time.Time) time.Time { return AddMonths(from, ValidityMonths).AddDate(0, 0, -1) }

// MayIssue decides whether org may issue a certificate for activity a on
// day (YYYY-MM-DD), under the rules in DOMAIN.md: an organiser with an
// agreement with the county board of the activity's län valid that day; an
// organiser funded under förordning (2016:1364); a study association or folk
// high school under förordning (2015:521) for "Svenska från dag ett" or
// "Vardagssvenska"; Arbetsförmedlingen for Jobskills. agreements are the
// organiser's agreements in the activity's län. The field path is "parent"
// (the activity).
func MayIssue(org Organiser, a Activity, agreements []Agreement, day string) error {
	why := ""
	switch a.Funding {
	case FundingAgreement:
		ok := false
		for _, ag := range agreements {
			if ag.OrgNumber == org.OrgNumber && ag.LanCode == a.LanCode && ag.ValidOn(day) {
				ok = true
			}
		}
		if !ok {
			why = "the organiser has no agreement with the county board of län " + a.LanCode + " in force on " + day
		}
	case FundingOrdinance2016:
	case FundingOrdinance2015:
		switch {
		case !org.Kind.IsFolkbildning():
			why = "under förordning (2015:521) only study associations and folk high schools issue certificates"
		case a.Programme == "":
			why = "under förordning (2015:521) only for Svenska från dag ett or Vardagssvenska"
		}
	case FundingJobskills:
		if org.Kind != KindArbetsformedlingen {
			why = "only Arbetsförmedlingen issues certificates for Jobskills"
		}
	default:
		why = "the activity states no funding basis, so no certificate can be issued for it"
	}
	if why == "" && a.EndDate < day {
		why = "the activity ended on " + a.EndDate
	}
	if why != "" {
		return badrequest.Field("parent", why)
	}
	return nil
}

// Issue fills a new certificate for activity a issued on today: the dossier
// number is checked, valid_from defaults to today or the activity's first
// day, whichever is later, and must lie within the activity and not before
// today; valid_to follows. Field paths are relative to the certificate.
func (c *Certificate) Issue(a Activity, today string) error {
	var v badrequest.Violations
	// Read as travel's claims read it: the LMA card's serial after a slash
	// is dropped ("12-345678/1" is "12-345678").
	if d, ok := dossier.Parse(c.Dossier); ok {
		c.Dossier = d
	} else {
		v.Add("dossier_number", "must be eight digits written NN-NNNNNN")
	}
	if c.ValidFrom == "" {
		c.ValidFrom = max(today, a.StartDate)
	}
	from, err := time.Parse(DateLayout, c.ValidFrom)
	switch {
	case err != nil:
		v.Add("valid_from", notADate)
	case c.ValidFrom < today:
		v.Add("valid_from", "a certificate cannot be back-dated: not before "+today)
	case c.ValidFrom < a.StartDate:
		v.Add("valid_from", "must not be before the activity starts ("+a.StartDate+")")
	case c.ValidFrom > a.EndDate:
		v.Add("valid_from", "must not be after the activity ends ("+a.EndDate+")")
	}
	if err := v.Err(); err != nil {
		return err
	}
	c.ValidTo = ValidTo(from).Format(DateLayout)
	c.Org, c.ActivityID, c.KommunCode, c.LanCode = a.Org, a.ID, a.KommunCode, a.LanCode
	c.Participation = ParticipationIssued
	c.EndDate = ""
	return nil
}

// Renewal returns the certificate that renews c, issued on today: a new
// three-month period from the day after c's last day (or today, if c has
// already expired). The caller checks MayIssue and stores it with an id.
func (c Certificate) Renewal(a Activity, today string) (Certificate, error) {
	switch {
	case c.Participation.Ended():
		return Certificate{}, badrequest.Field("name", "the participation ended on "+c.EndDate+"; it cannot be renewed")
	case c.RenewedBy != "":
		return Certificate{}, badrequest.Field("name", "already renewed by "+c.RenewedBy)
	}
	to, err := time.Parse(DateLayout, c.ValidTo)
	if err != nil {
		return Certificate{}, err
	}
	from := max(to.AddDate(0, 0, 1).Format(DateLayout), today)
	if from > a.EndDate {
		return Certificate{}, badrequest.Field("name", "the activity ends on "+a.EndDate+", before a renewal would start")
	}
	n := Certificate{Dossier: c.Dossier, ValidFrom: from, Renews: c.Name()}
	if err := n.Issue(a, today); err != nil {
		return Certificate{}, err
	}
	if c.Participation == ParticipationStarted {
		n.Participation = ParticipationStarted
	}
	return n, nil
}

// Start records that the participant started.
func (c *Certificate) Start() error {
	switch {
	case c.Participation.Ended():
		return badrequest.Field("name", "the participation already ended on "+c.EndDate)
	}
	c.Participation = ParticipationStarted
	return nil
}

// End records that the participant dropped out on day, or that the
// organiser learnt on day that the participant never started. day defaults
// to today and may not be in the future; a drop-out is not before the
// certificate's first day, and a participant recorded as started cannot be
// recorded as never started. When c was renewed, the caller ends the
// renewals too (see store.EndRenewals).
func (c *Certificate) End(outcome Participation, day, today string) error {
	var v badrequest.Violations
	if day == "" {
		day = today
	}
	if c.Participation.Ended() {
		return badrequest.Field("name", "the participation already ended on "+c.EndDate)
	}
	if _, err := parseDate(&v, "end_date", day); err == nil && day > today {
		v.Add("end_date", "must not be in the future")
	}
	switch outcome {
	case ParticipationDroppedOut:
		if day < c.ValidFrom {
			v.Add("end_date", "a drop-out must not be before the certificate's first day ("+c.ValidFrom+")")
		}
	case ParticipationNeverStarted:
		if c.Participation == ParticipationStarted {
			v.Add("outcome", "the participant was recorded as started; record a drop-out instead")
		}
	default:
		v.Add("outcome", "must be PARTICIPATION_DROPPED_OUT or PARTICIPATION_NEVER_STARTED")
	}
	if err := v.Err(); err != nil {
		return err
	}
	c.Participation, c.EndDate = outcome, day
	return nil
}

// Reason codes of a certificate check.
const (
	ReasonNotFound         = "CERTIFICATE_NOT_FOUND"
	ReasonWrongParticipant = "WRONG_PARTICIPANT"
	ReasonWrongActivity    = "WRONG_ACTIVITY"
	ReasonNotValidOnDate   = "NOT_VALID_ON_DATE"
	ReasonEnded            = "PARTICIPATION_ENDED"
)

// Check answers whether c (nil when it does not exist) lets dossier travel
// to activity on day; it returns the reasons why not, none when it does. A
// participant who dropped out may travel up to and including the day of the
// drop-out; one who never started, never.
func Check(c *Certificate, dossier, activity, day string) []string {
	if c == nil {
		return []string{ReasonNotFound}
	}
	var reasons []string
	if c.Dossier != dossier {
		reasons = append(reasons, ReasonWrongParticipant)
	}
	if c.ActivityName() != activity {
		reasons = append(reasons, ReasonWrongActivity)
	}
	if day < c.ValidFrom || day > c.ValidTo {
		reasons = append(reasons, ReasonNotValidOnDate)
	}
	if c.Participation == ParticipationNeverStarted ||
		(c.Participation == ParticipationDroppedOut && day > c.EndDate) {
		reasons = append(reasons, ReasonEnded)
	}
	return reasons
}

// ActiveOn reports whether the certificate counts as an active participant
// on day: valid that day and the participation not ended by then.
func (c Certificate) ActiveOn(day string) bool {
	if day < c.ValidFrom || day > c.ValidTo {
		return false
	}
	switch c.Participation {
	case ParticipationNeverStarted:
		return false
	case ParticipationDroppedOut:
		return day <= c.EndDate
	}
	return true
}
