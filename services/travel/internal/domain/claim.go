package domain

import (
	"math"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/dossier"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// Claim states, as stored.
const (
	StatePending  = "PENDING"
	StateInReview = "IN_REVIEW"
	StateApproved = "APPROVED"
	StateRejected = "REJECTED"
	StatePaid     = "PAID"
)

// Reason codes of the automatic checks. The certificate reasons are the
// activity registry's own (CERTIFICATE_NOT_FOUND, WRONG_PARTICIPANT,
// WRONG_ACTIVITY, NOT_VALID_ON_DATE, PARTICIPATION_ENDED) and are kept as the
// registry gives them.
const (
	ReasonRegistryUnreachable = "REGISTRY_UNREACHABLE"
	ReasonParticipationEnded  = "PARTICIPATION_ENDED"
	ReasonCertificateNotFound = "CERTIFICATE_NOT_FOUND"
	ReasonTooShort            = "TOO_SHORT"
	ReasonNoRoute             = "NO_ROUTE"
	ReasonDuplicateTrip       = "DUPLICATE_TRIP"
	ReasonCostAboveMaximum    = "COST_ABOVE_MAXIMUM"
	ReasonSubmittedLate       = "SUBMITTED_LATE"
)

// MinDistanceKm is the shortest trip compensated.
const MinDistanceKm = 2.0

// Rules are the configurable limits of the checks.
type Rules struct {
	// MaxCostOre is the most one trip may cost.
	MaxCostOre int64
	// SubmitWithinDays is how long after the trip a claim may be submitted.
	SubmitWithinDays int
}

// DefaultRules: 500 kr a trip, claims within 90 days.
var DefaultRules = Rules{MaxCostOre: 50000, SubmitWithinDays: 90}

const claimPrefix = "claims/"

// Claim is a claim for one trip.
type Claim struct {
	ID             string
	Dossier        string
	TripDate       string
	FromKommunCode string
	ToKommunCode   string
	Activity       string
	Certificate    string
	DistanceKm     float64
	CostOre        int64
	TicketType     int32
	State          string
	Reasons        []string
	DecisionReason string
	LanCode        string
	RequestID      string
	SubmitTime     time.Time
	DecideTime     time.Time
	PayTime        time.Time
	PaymentRun     string
}

// Name is the claim's resource name.
func (c Claim) Name() string { return claimPrefix + c.ID }

// ParseClaimName returns the id in claims/{id}.
func ParseClaimName(name string) (string, bool) { return parseID(ClaimName, name) }

// Normalize checks what makes a claim well-formed (bad input, refused with
// the field named) and fills the län. today is the submitter's date.
// Violations never quote the dossier number.
func (c *Claim) Normalize(today string) error {
	var v badrequest.Violations
	if d, ok := dossier.Parse(c.Dossier); ok {
		c.Dossier = d
	} else {
		v.Add("dossier_number", "must be a dossier number written NN-NNNNNN (optionally followed by /N)")
	}
	if _, err := time.Parse(DateLayout, c.TripDate); err != nil {
		v.Add("trip_date", "must be a date written YYYY-MM-DD")
	} else if c.TripDate > today {
		v.Add("trip_date", "must not be in the future")
	}
	from, ok := refdata.KommunByCode(c.FromKommunCode)
	if !ok {
		v.Add("from_kommun_code", "unknown kommun code "+quote(c.FromKommunCode))
	}
	if _, ok := refdata.KommunByCode(c.ToKommunCode); !ok {
		v.Add("to_kommun_code", "unknown kommun code "+quote(c.ToKommunCode))
	}
	if c.Activity == "" {
		v.Add("activity", "required")
	}
	if c.Certificate == "" {
		v.Add("certificate", "required")
	}
	if math.IsNaN(c.DistanceKm) || math.IsInf(c.DistanceKm, 0) || c.DistanceKm < 0 || c.DistanceKm > 5000 {
		v.Add("distance_km", "must be between 0 and 5000")
	}
	if c.CostOre < 0 {
		v.Add("cost_ore", "must not be negative")
	}
	if c.TicketType == 0 {
		v.Add("ticket_type", "required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	c.LanCode = from.LanCode
	return nil
}

// Facts are what the checks need beyond the claim itself, gathered by the
// caller from its own tables and from the activity registry.
type Facts struct {
	// Submitted is the day the claim was submitted, YYYY-MM-DD.
	Submitted string
	// RouteApproved: an approved route joins the two kommuner on the trip
	// date (ignored when they are the same kommun).
	RouteApproved bool
	// Duplicate: another claim (not rejected) of the same person, day and
	// direction exists.
	Duplicate bool
	// ParticipationEnd is the day the participation ended according to a
	// ParticipationEnded event, or "".
	ParticipationEnd string
	// Registry is the activity registry's answer; nil while unreachable.
	Registry *RegistryAnswer
}

// RegistryAnswer is the activity registry's verdict on a certificate.
type RegistryAnswer struct {
	Valid   bool
	Reasons []string
}

// Check runs every check and returns the reason codes of those that failed
// and the state the claim goes to: APPROVED when none failed, PENDING while
// the registry could not be asked, IN_REVIEW otherwise.
func Check(c Claim, f Facts, r Rules) (state string, reasons []string) {
	add := func(code string) {
		for _, have := range reasons {
			if have == code {
				return
			}
		}
		reasons = append(reasons, code)
	}
	if f.Registry == nil {
		add(ReasonRegistryUnreachable)
	} else if !f.Registry.Valid {
		for _, code := range f.Registry.Reasons {
			add(code)
		}
		if len(f.Registry.Reasons) == 0 {
			add(ReasonCertificateNotFound)
		}
	}
	if f.ParticipationEnd != "" && f.ParticipationEnd < c.TripDate {
		add(ReasonParticipationEnded)
	}
	if c.DistanceKm < MinDistanceKm {
		add(ReasonTooShort)
	}
	if c.FromKommunCode != c.ToKommunCode && !f.RouteApproved {
		add(ReasonNoRoute)
	}
	if f.Duplicate {
		add(ReasonDuplicateTrip)
	}
	if r.MaxCostOre > 0 && c.CostOre > r.MaxCostOre {
		add(ReasonCostAboveMaximum)
	}
	if trip, err := time.Parse(DateLayout, c.TripDate); err == nil && r.SubmitWithinDays > 0 {
		if f.Submitted > trip.AddDate(0, 0, r.SubmitWithinDays).Format(DateLayout) {
			add(ReasonSubmittedLate)
		}
	}
	switch {
	case f.Registry == nil:
		return StatePending, reasons
	case len(reasons) == 0:
		return StateApproved, nil
	default:
		return StateInReview, reasons
	}
}
