package domain

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// Consultation states, as stored.
const (
	ConsultationOpen    = "OPEN"
	ConsultationDecided = "DECIDED"
)

// Stances of a response, as stored (the proto enum numbers).
const (
	StanceSupport = 1
	StanceObject  = 2
	StanceComment = 3
)

const consultationPrefix = "consultations/"

// Consultation is a samråd on proposed routes.
type Consultation struct {
	ID          string
	Proposals   []Route
	Deadline    string
	Description string
	LanCodes    []string
	State       string
	Responses   []Response
	Decision    *Decision
	CreateTime  time.Time
	// Invited are organisers (organisers/{org_number}) asked to respond
	// besides those with activities in the kommuner concerned.
	Invited []string
}

// Invites reports whether the consultation asks the organiser org
// (its organisation number) by invitation.
func (c Consultation) Invites(org string) bool {
	for _, o := range c.Invited {
		if o == OrganiserName.Format(org) {
			return true
		}
	}
	return false
}

// Kommuner are the kommuner the proposals join, each once, in order.
func (c Consultation) Kommuner() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range c.Proposals {
		for _, k := range []string{p.FromKommunCode, p.ToKommunCode} {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// Response is one addressee's answer to a consultation.
type Response struct {
	ID             string
	ConsultationID string
	Stance         int32
	Comment        string
	Respondent     string
	LanCode        string
	OrgNumber      string
	CreateTime     time.Time
}

// Feedback is återkoppling on one response.
type Feedback struct {
	Response string `json:"response"`
	Text     string `json:"text"`
}

// Decision is what Migrationsverket decided after the consultation.
type Decision struct {
	Routes     []string   `json:"routes"`
	Approved   []int32    `json:"approved"`
	Feedback   []Feedback `json:"feedback"`
	Reason     string     `json:"reason"`
	DecideTime time.Time  `json:"decide_time"`
}

// Name is the consultation's resource name.
func (c Consultation) Name() string { return consultationPrefix + c.ID }

// Name is the response's resource name.
func (r Response) Name() string {
	return consultationPrefix + r.ConsultationID + "/responses/" + r.ID
}

// ParseConsultationName returns the id in consultations/{id}.
func ParseConsultationName(name string) (string, bool) { return parseID(ConsultationName, name) }

// Normalize checks a proposed consultation and derives the län concerned.
func (c *Consultation) Normalize(today string) error {
	var v badrequest.Violations
	if len(c.Proposals) == 0 {
		v.Add("proposals", "at least one proposed route")
	}
	lans := map[string]bool{}
	for i := range c.Proposals {
		p := &c.Proposals[i]
		if err := p.Normalize(); err != nil {
			addAll(&v, "proposals["+strconv.Itoa(i)+"]", err)
			continue
		}
		for _, code := range []string{p.FromKommunCode, p.ToKommunCode} {
			k, _ := refdata.KommunByCode(code)
			lans[k.LanCode] = true
		}
	}
	if _, err := time.Parse(DateLayout, c.Deadline); err != nil {
		v.Add("deadline", "must be a date written YYYY-MM-DD")
	} else if c.Deadline < today {
		v.Add("deadline", "must not be in the past")
	}
	if utf8.RuneCountInString(c.Description) > 4000 {
		v.Add("description", "at most 4000 characters")
	}
	if err := v.Err(); err != nil {
		return err
	}
	c.LanCodes = c.LanCodes[:0]
	for l := range lans {
		c.LanCodes = append(c.LanCodes, l)
	}
	slices.Sort(c.LanCodes)
	return nil
}

// CheckResponse checks that a response may be given to c on today.
func (c Consultation) CheckResponse(today string) error {
	switch {
	case c.State != ConsultationOpen:
		return badrequest.Field("parent", "the consultation is decided and takes no more responses")
	case today > c.Deadline:
		return badrequest.Field("parent", "the consultation's deadline "+c.Deadline+" has passed")
	}
	return nil
}

// CheckDecision checks a decision on c: the consultation must be open, the
// approved indexes must be proposals, and every response must have
// feedback (and feedback only responses of c).
func (c Consultation) CheckDecision(approved []int32, feedback []Feedback) error {
	var v badrequest.Violations
	if c.State != ConsultationOpen {
		v.Add("name", "the consultation is already decided")
		return v.Err()
	}
	seen := map[int32]bool{}
	for i, a := range approved {
		if a < 0 || int(a) >= len(c.Proposals) {
			v.Add("approved["+strconv.Itoa(i)+"]", "no proposal has that index")
		} else if seen[a] {
			v.Add("approved["+strconv.Itoa(i)+"]", "listed twice")
		}
		seen[a] = true
	}
	given := map[string]bool{}
	for i, f := range feedback {
		if !slices.ContainsFunc(c.Responses, func(r Response) bool { return r.Name() == f.Response }) {
			v.Add("feedback["+strconv.Itoa(i)+"].response", "not a response to this consultation")
		}
		if strings.TrimSpace(f.Text) == "" {
			v.Add("feedback["+strconv.Itoa(i)+"].text", "required")
		}
		given[f.Response] = true
	}
	for _, r := range c.Responses {
		if !given[r.Name()] {
			v.Add("feedback", "no feedback on "+r.Name())
		}
	}
	return v.Err()
}

// addAll adds the field violations of err to v, under prefix.
func addAll(v *badrequest.Violations, prefix string, err error) {
	st, ok := status.FromError(err)
	if !ok {
		v.Add(prefix, err.Error())
		return
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				v.Add(prefix+"."+fv.GetField(), fv.GetDescription())
			}
		}
	}
}
