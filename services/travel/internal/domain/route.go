// Package domain holds the travel-compensation rules as plain Go. This far it
// knows what makes a route decision valid: Migrationsverket's decision that
// travel between two kommuner is compensated for a period. It knows nothing
// of gRPC or SQL.
package domain

import (
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/platform/resname"
)

// DateLayout is how dates travel in the API and are stored: ISO 8601, which
// also sorts correctly as text, so "valid on a day" is a text comparison.
const DateLayout = "2006-01-02"

// MaxReasonLen is the longest reason, in characters, that a decision keeps.
const MaxReasonLen = 2000

const namePrefix = "routes/"

// idPattern is the shape of a route id in a name: what AIP-122 allows and
// what the UUIDs this service assigns look like.
var idPattern = regexp.MustCompile(`^[a-z0-9-]{1,63}$`)

// Route is a decision that travel between two kommuner is compensated, in
// both directions, from ValidFrom to ValidTo inclusive.
type Route struct {
	ID             string
	FromKommunCode string
	ToKommunCode   string
	ValidFrom      string
	ValidTo        string
	// Reason says why the route is approved (thin supply, a specific
	// activity, ...); it is what the consultation is answered with.
	Reason string
	// DistanceKm is the great-circle distance between the kommun seats,
	// derived by Normalize and kept as decided, so later changes to the
	// reference data do not rewrite past decisions.
	DistanceKm float64
	CreateTime time.Time
	// RevokedFrom is the first day no longer approved, once revoked.
	RevokedFrom string
	// Consultation is the id of the consultation the route was decided
	// after; empty for a direct decision.
	Consultation string
}

// Revoke ends the route the day before from. The route must have started
// before from and not be revoked already; from must fall within it.
func (r *Route) Revoke(from string) error {
	var v badrequest.Violations
	switch {
	case r.RevokedFrom != "":
		v.Add("name", "the route is already revoked from "+r.RevokedFrom)
	default:
		day, err := time.Parse(DateLayout, from)
		switch {
		case err != nil:
			v.Add("revoked_from", "must be a date written YYYY-MM-DD")
		case from <= r.ValidFrom:
			v.Add("revoked_from", "must be after valid_from "+r.ValidFrom)
		case from > r.ValidTo:
			v.Add("revoked_from", "must not be after valid_to "+r.ValidTo)
		default:
			r.RevokedFrom = from
			r.ValidTo = day.AddDate(0, 0, -1).Format(DateLayout)
		}
	}
	return v.Err()
}

// Name is the route's resource name.
func (r Route) Name() string { return namePrefix + r.ID }

// ParseName returns the id in a name of the form routes/{id}.
func ParseName(name string) (string, bool) { return parseID(RouteName, name) }

// Resource-name patterns of the service (AIP-122).
var (
	RouteName        = resname.New("routes/{route}")
	ConsultationName = resname.New("consultations/{consultation}")
	ClaimName        = resname.New("claims/{claim}")
	RunName          = resname.New("paymentRuns/{run}")
	RunFileName      = resname.New("paymentRuns/{run}/file")
	OrganiserName    = resname.New("organisers/{organiser}")
)

// parseID returns the one id in name when it matches p and is an id.
func parseID(p resname.Pattern, name string) (string, bool) {
	v, ok := p.Match(name)
	if !ok || len(v) != 1 || !idPattern.MatchString(v[0]) {
		return "", false
	}
	return v[0], true
}

// Normalize checks the rules that the protos cannot declare and fills the
// distance from the two kommuner. Field paths in the error are relative to
// the route.
func (r *Route) Normalize() error {
	var v badrequest.Violations
	from, fromOK := refdata.KommunByCode(r.FromKommunCode)
	if !fromOK {
		v.Add("from_kommun_code", "unknown kommun code "+quote(r.FromKommunCode))
	}
	to, toOK := refdata.KommunByCode(r.ToKommunCode)
	switch {
	case !toOK:
		v.Add("to_kommun_code", "unknown kommun code "+quote(r.ToKommunCode))
	case r.ToKommunCode == r.FromKommunCode:
		// Travel within one kommun needs no route decision.
		v.Add("to_kommun_code", "must differ from from_kommun_code")
	}
	start, errFrom := time.Parse(DateLayout, r.ValidFrom)
	if errFrom != nil {
		v.Add("valid_from", "must be a date written YYYY-MM-DD")
	}
	end, errTo := time.Parse(DateLayout, r.ValidTo)
	if errTo != nil {
		v.Add("valid_to", "must be a date written YYYY-MM-DD")
	}
	if errFrom == nil && errTo == nil && end.Before(start) {
		v.Add("valid_to", "must not be before valid_from")
	}
	if utf8.RuneCountInString(r.Reason) > MaxReasonLen {
		v.Add("reason", "at most 2000 characters")
	}
	if err := v.Err(); err != nil {
		return err
	}
	r.DistanceKm = refdata.DistanceKm(from, to)
	return nil
}

func quote(s string) string { return "\"" + s + "\"" }
