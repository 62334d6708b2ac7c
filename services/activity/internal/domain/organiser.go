package domain

import (
	"strings"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// Kind is what kind of organisation an organiser is.
type Kind string

// The kinds the issue names.
const (
	KindStudyAssociation   Kind = "study_association"
	KindFolkHighSchool     Kind = "folk_high_school"
	KindNonProfit          Kind = "non_profit"
	KindFaithCommunity     Kind = "faith_community"
	KindMunicipality       Kind = "municipality"
	KindRegion             Kind = "region"
	KindArbetsformedlingen Kind = "arbetsformedlingen"
)

// IsFolkbildning reports whether organisers of kind k are part of popular
// education (folkbildning): study associations and folk high schools, whose
// activities Folkbildningsrådet reports.
func (k Kind) IsFolkbildning() bool { return k == KindStudyAssociation || k == KindFolkHighSchool }

// ContactRole is what a contact person is for.
type ContactRole string

// Contact roles.
const (
	ContactRegional     ContactRole = "regional"
	ContactParticipants ContactRole = "participants"
)

// Contact is a contact person of an organiser.
type Contact struct {
	Role        ContactRole
	DisplayName string
	Email       string
	Phone       string
	// LanCodes are the län the contact covers; empty means all.
	LanCodes []string
}

// Organiser is an organisation that runs activities.
type Organiser struct {
	OrgNumber   string
	DisplayName string
	Kind        Kind
	Contacts    []Contact
	CreateTime  time.Time
	UpdateTime  time.Time
}

// Name is the organiser's resource name.
func (o Organiser) Name() string { return "organisers/" + o.OrgNumber }

// ValidOrgNumber reports whether s is a Swedish organisation number: ten
// digits whose last is the Luhn check digit of the first nine. A hyphen
// after the sixth digit (NNNNNN-NNNN) is accepted by NormalizeOrgNumber.
func ValidOrgNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 0 { // weights 2,1,2,1,... from the left over the first nine
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// NormalizeOrgNumber removes the optional hyphen of NNNNNN-NNNN.
func NormalizeOrgNumber(s string) string {
	if len(s) == 11 && s[6] == '-' {
		return s[:6] + s[7:]
	}
	return s
}

// Normalize checks the organiser. Field paths are relative to the organiser.
func (o *Organiser) Normalize() error {
	var v badrequest.Violations
	o.OrgNumber = NormalizeOrgNumber(o.OrgNumber)
	if !ValidOrgNumber(o.OrgNumber) {
		v.Add("org_number", "must be ten digits whose last is the Luhn check digit")
	}
	o.DisplayName = strings.TrimSpace(o.DisplayName)
	if o.DisplayName == "" {
		v.Add("display_name", "must not be empty")
	}
	if o.Kind == "" {
		v.Add("kind", "name the kind of organisation")
	}
	validateContacts(&v, o.Contacts)
	return v.Err()
}

func validateContacts(v *badrequest.Violations, contacts []Contact) {
	for i, c := range contacts {
		p := "contacts[" + itoa(i) + "]."
		if c.Role == "" {
			v.Add(p+"role", "name the role: regional or participants")
		}
		if strings.TrimSpace(c.DisplayName) == "" {
			v.Add(p+"display_name", "must not be empty")
		}
		if c.Email == "" && c.Phone == "" {
			v.Add(p+"email", "give an e-mail address or a telephone number")
		}
		if c.Email != "" && !strings.Contains(c.Email, "@") {
			v.Add(p+"email", "not an e-mail address")
		}
		for j, l := range c.LanCodes {
			if _, ok := refdata.LanByCode(l); !ok {
				v.Add(p+"lan_codes["+itoa(j)+"]", "unknown län code "+quote(l))
			}
		}
	}
}

// CoversLan reports whether the contact covers län lan.
func (c Contact) CoversLan(lan string) bool {
	if len(c.LanCodes) == 0 {
		return true
	}
	for _, l := range c.LanCodes {
		if l == lan {
			return true
		}
	}
	return false
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

// KnownLan reports whether code is one of the 21 län.
func KnownLan(code string) bool {
	_, ok := refdata.LanByCode(code)
	return ok
}
