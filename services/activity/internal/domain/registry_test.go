package domain

import (
	"slices"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/badrequest/badrequesttest"
	"github.com/tia-platform/tia/services/platform/refdata"
)

func date(s string) time.Time {
	d, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestValidOrgNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"8020038884", true},  // demo study association
		{"8176055559", true},  // demo folk high school
		{"2021005489", true},  // Arbetsförmedlingen
		{"5560360793", true},  // a company
		{"8020038885", false}, // wrong check digit
		{"8020038880", false},
		{"802003888", false},   // nine digits
		{"80200388840", false}, // eleven
		{"80200a8884", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidOrgNumber(tt.in); got != tt.want {
			t.Errorf("ValidOrgNumber(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if got := NormalizeOrgNumber("802003-8884"); got != "8020038884" {
		t.Errorf("NormalizeOrgNumber = %q", got)
	}
}

func TestOrganiserNormalize(t *testing.T) {
	ok := func() Organiser {
		return Organiser{OrgNumber: "802003-8884", DisplayName: " Studieförbundet ", Kind: KindStudyAssociation,
			Contacts: []Contact{{Role: ContactRegional, DisplayName: "Anna", Email: "anna@example.se", LanCodes: []string{"01"}}}}
	}
	badrequesttest.Run(t, ok, (*Organiser).Normalize, []badrequesttest.Case[Organiser]{
		{Name: "valid", Change: func(*Organiser) {}},
		{Name: "bad check digit", Change: func(o *Organiser) { o.OrgNumber = "8020038885" }, Fields: []string{"org_number"}},
		{Name: "no name", Change: func(o *Organiser) { o.DisplayName = "  " }, Fields: []string{"display_name"}},
		{Name: "no kind", Change: func(o *Organiser) { o.Kind = "" }, Fields: []string{"kind"}},
		{Name: "contact without way to reach", Change: func(o *Organiser) { o.Contacts[0].Email = "" }, Fields: []string{"contacts[0].email"}},
		{Name: "contact with bad e-mail", Change: func(o *Organiser) { o.Contacts[0].Email = "anna" }, Fields: []string{"contacts[0].email"}},
		{Name: "contact in unknown län", Change: func(o *Organiser) { o.Contacts[0].LanCodes = []string{"02"} }, Fields: []string{"contacts[0].lan_codes[0]"}},
		{Name: "contact without role", Change: func(o *Organiser) { o.Contacts[0].Role = "" }, Fields: []string{"contacts[0].role"}},
	}, func(t *testing.T, o Organiser, err error) {
		if err == nil && (o.OrgNumber != "8020038884" || o.DisplayName != "Studieförbundet") {
			t.Fatalf("not normalized: %+v", o)
		}
	})
}

func TestAgreementRules(t *testing.T) {
	signed := date("2026-03-15")
	tests := []struct {
		name       string
		start, end string
		fields     []string
	}{
		{"starts the day it is signed", "2026-03-15", "2026-12-31", nil},
		{"exactly one year", "2026-03-15", "2027-03-14", nil},
		{"one year from a later start", "2026-04-01", "2027-03-31", nil},
		{"one day", "2026-03-20", "2026-03-20", nil},
		{"a year and a day", "2026-03-15", "2027-03-15", []string{"end_date"}},
		{"back-dated", "2026-03-14", "2026-12-31", []string{"start_date"}},
		{"ends before it starts", "2026-05-01", "2026-04-30", []string{"end_date"}},
		{"not a date", "2026-02-30", "2026-12-31", []string{"start_date"}},
		{"leap day start", "2028-02-29", "2029-02-27", nil},
		{"leap day start, a day too long", "2028-02-29", "2029-02-28", []string{"end_date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Agreement{LanCode: "01", OrgNumber: "8020038884", StartDate: tt.start, EndDate: tt.end}
			err := a.Normalize(signed)
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v (%v)", got, tt.fields, err)
			}
			if err == nil && a.SignDate != "2026-03-15" {
				t.Fatalf("SignDate = %s", a.SignDate)
			}
		})
	}
}

func TestAgreementEnd(t *testing.T) {
	base := Agreement{StartDate: "2026-03-20", EndDate: "2026-12-31"}
	tests := []struct {
		name  string
		ended string
		day   string
		field string
	}{
		{"early", "", "2026-06-30", ""},
		{"the first day", "", "2026-03-20", ""},
		{"not early", "", "2026-12-31", "end_date"},
		{"before it starts", "", "2026-03-19", "end_date"},
		{"already ended", "2026-05-01", "2026-04-01", "end_date"},
		{"not a date", "", "2026-13-01", "end_date"},
		{"retroactively", "", "2026-03-09", "end_date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base
			a.EndedDate = tt.ended
			err := a.End(tt.day, "2026-03-10")
			if got := badrequest.Fields(err); tt.field == "" && got != nil || tt.field != "" && !slices.Equal(got, []string{tt.field}) {
				t.Fatalf("fields = %v, want %q", got, tt.field)
			}
			if err == nil && (a.LastDay() != tt.day || a.ValidOn(date(tt.day).AddDate(0, 0, 1).Format(DateLayout))) {
				t.Fatalf("after End: %+v", a)
			}
		})
	}
}

func TestActivityFundingFields(t *testing.T) {
	badrequesttest.Run(t, valid, (*Activity).Normalize, []badrequesttest.Case[Activity]{
		{Name: "2015:521 with programme", Change: func(a *Activity) { a.Funding, a.Programme = FundingOrdinance2015, ProgrammeVardagssvenska }},
		{Name: "2015:521 without programme", Change: func(a *Activity) { a.Funding = FundingOrdinance2015 }, Fields: []string{"programme"}},
		{Name: "programme without 2015:521", Change: func(a *Activity) { a.Funding, a.Programme = FundingJobskills, ProgrammeVardagssvenska }, Fields: []string{"programme"}},
		{Name: "agreement without name", Change: func(a *Activity) { a.Funding = FundingAgreement }, Fields: []string{"agreement"}},
		{Name: "agreement named without agreement funding", Change: func(a *Activity) { a.Agreement = "lan/01/agreements/x" }, Fields: []string{"agreement"}},
		{Name: "bad language", Change: func(a *Activity) { a.Languages = []string{"sv", "Arabic"} }, Fields: []string{"languages[1]"}},
	}, nil)
}

func TestCheckFunding(t *testing.T) {
	study := Organiser{OrgNumber: "8020016281", Kind: KindStudyAssociation}
	church := Organiser{OrgNumber: "8020016281", Kind: KindFaithCommunity}
	af := Organiser{OrgNumber: "8020016281", Kind: KindArbetsformedlingen}
	ag := &Agreement{LanCode: "01", ID: "x", OrgNumber: "8020016281", StartDate: "2026-01-01", EndDate: "2026-12-31"}
	other := &Agreement{LanCode: "01", ID: "x", OrgNumber: "8176055559", StartDate: "2026-01-01", EndDate: "2026-12-31"}
	skane := &Agreement{LanCode: "12", ID: "x", OrgNumber: "8020016281", StartDate: "2026-01-01", EndDate: "2026-12-31"}
	ended := &Agreement{LanCode: "01", ID: "x", OrgNumber: "8020016281", StartDate: "2025-01-01", EndDate: "2025-12-31"}
	tests := []struct {
		name    string
		org     Organiser
		funding Funding
		ag      *Agreement
		field   string
	}{
		{"agreement", church, FundingAgreement, ag, ""},
		{"missing agreement", church, FundingAgreement, nil, "agreement"},
		{"another organiser's agreement", church, FundingAgreement, other, "agreement"},
		{"agreement in another län", church, FundingAgreement, skane, "agreement"},
		{"agreement ended before start", church, FundingAgreement, ended, "agreement"},
		{"2015:521 study association", study, FundingOrdinance2015, nil, ""},
		{"2015:521 faith community", church, FundingOrdinance2015, nil, "funding_basis"},
		{"jobskills af", af, FundingJobskills, nil, ""},
		{"jobskills study association", study, FundingJobskills, nil, "funding_basis"},
		{"2016:1364 anyone", church, FundingOrdinance2016, nil, ""},
		{"not stated", church, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid()
			a.LanCode = "01"
			a.Funding = tt.funding
			got := badrequest.Fields(a.CheckFunding(tt.org, tt.ag))
			if tt.field == "" && got != nil || tt.field != "" && !slices.Equal(got, []string{tt.field}) {
				t.Fatalf("fields = %v, want %q", got, tt.field)
			}
		})
	}
}

func TestMayIssue(t *testing.T) {
	study := Organiser{OrgNumber: "8020016281", Kind: KindStudyAssociation}
	church := Organiser{OrgNumber: "8020016281", Kind: KindFaithCommunity}
	af := Organiser{OrgNumber: "8020016281", Kind: KindArbetsformedlingen}
	ag := Agreement{LanCode: "01", OrgNumber: "8020016281", StartDate: "2026-01-01", EndDate: "2026-12-31"}
	endedEarly := ag
	endedEarly.EndedDate = "2026-03-31"
	otherLan := ag
	otherLan.LanCode = "12"
	act := func(f Funding, p Programme) Activity {
		a := valid()
		a.LanCode, a.Funding, a.Programme, a.EndDate = "01", f, p, "2026-12-31"
		return a
	}
	tests := []struct {
		name   string
		org    Organiser
		a      Activity
		ags    []Agreement
		day    string
		allows bool
	}{
		{"agreement in force", church, act(FundingAgreement, ""), []Agreement{ag}, "2026-05-01", true},
		{"agreement not yet in force", church, act(FundingAgreement, ""), []Agreement{ag}, "2025-12-31", false},
		{"agreement ended early", church, act(FundingAgreement, ""), []Agreement{endedEarly}, "2026-05-01", false},
		{"agreement with another county board", church, act(FundingAgreement, ""), []Agreement{otherLan}, "2026-05-01", false},
		{"no agreement", church, act(FundingAgreement, ""), nil, "2026-05-01", false},
		{"2016:1364", church, act(FundingOrdinance2016, ""), nil, "2026-05-01", true},
		{"2015:521 study association Svenska från dag ett", study, act(FundingOrdinance2015, ProgrammeSvenskaFranDagEtt), nil, "2026-05-01", true},
		{"2015:521 study association without programme", study, act(FundingOrdinance2015, ""), nil, "2026-05-01", false},
		{"2015:521 faith community", church, act(FundingOrdinance2015, ProgrammeVardagssvenska), nil, "2026-05-01", false},
		{"Jobskills Arbetsförmedlingen", af, act(FundingJobskills, ""), nil, "2026-05-01", true},
		{"Jobskills others", study, act(FundingJobskills, ""), nil, "2026-05-01", false},
		{"no funding basis", study, act("", ""), nil, "2026-05-01", false},
		{"activity ended", church, act(FundingOrdinance2016, ""), nil, "2027-01-01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := MayIssue(tt.org, tt.a, tt.ags, tt.day)
			if (err == nil) != tt.allows {
				t.Fatalf("MayIssue = %v, want allowed %v", err, tt.allows)
			}
			if err != nil && !slices.Equal(badrequest.Fields(err), []string{"parent"}) {
				t.Fatalf("fields = %v", badrequest.Fields(err))
			}
		})
	}
}

func TestIssueCertificate(t *testing.T) {
	a := valid() // 2026-01-10 .. 2026-06-10
	tests := []struct {
		name, dossier, from, today string
		wantFrom, wantTo           string
		fields                     []string
	}{
		{"defaults to today", "12-345678", "", "2026-02-01", "2026-02-01", "2026-04-30", nil},
		{"defaults to the first day", "12-345678", "", "2026-01-01", "2026-01-10", "2026-04-09", nil},
		{"card serial dropped", "12-345678/1", "", "2026-02-01", "2026-02-01", "2026-04-30", nil},
		{"end of month", "12-345678", "2026-01-31", "2026-01-20", "2026-01-31", "2026-04-29", nil},
		{"bad dossier", "12345678", "", "2026-02-01", "", "", []string{"dossier_number"}},
		{"back-dated", "12-345678", "2026-01-20", "2026-02-01", "", "", []string{"valid_from"}},
		{"after the activity", "12-345678", "2026-07-01", "2026-02-01", "", "", []string{"valid_from"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Certificate{Dossier: tt.dossier, ValidFrom: tt.from}
			err := c.Issue(a, tt.today)
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v (%v)", got, tt.fields, err)
			}
			if err == nil && (c.ValidFrom != tt.wantFrom || c.ValidTo != tt.wantTo || c.Dossier != "12-345678" ||
				c.Participation != ParticipationIssued || c.KommunCode != "0180") {
				t.Fatalf("certificate = %+v", c)
			}
		})
	}
}

func TestRenewal(t *testing.T) {
	a := valid()
	a.EndDate = "2026-12-31"
	old := Certificate{Org: a.Org, ActivityID: a.ID, ID: "c1", Dossier: "12-345678", ValidFrom: "2026-02-01",
		ValidTo: "2026-04-30", Participation: ParticipationStarted}
	tests := []struct {
		name     string
		change   func(*Certificate)
		today    string
		wantFrom string
		wantTo   string
		fail     bool
	}{
		{"before expiry continues the period", func(*Certificate) {}, "2026-04-20", "2026-05-01", "2026-07-31", false},
		{"after expiry starts today", func(*Certificate) {}, "2026-06-10", "2026-06-10", "2026-09-09", false},
		{"ended participation", func(c *Certificate) { c.Participation, c.EndDate = ParticipationDroppedOut, "2026-03-01" }, "2026-04-20", "", "", true},
		{"already renewed", func(c *Certificate) { c.RenewedBy = "x" }, "2026-04-20", "", "", true},
		{"activity over", func(*Certificate) {}, "2027-01-01", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := old
			tt.change(&c)
			n, err := c.Renewal(a, tt.today)
			if (err != nil) != tt.fail {
				t.Fatalf("err = %v, want failure %v", err, tt.fail)
			}
			if err == nil && (n.ValidFrom != tt.wantFrom || n.ValidTo != tt.wantTo || n.Renews != old.Name() ||
				n.Participation != ParticipationStarted || n.Dossier != old.Dossier) {
				t.Fatalf("renewal = %+v", n)
			}
		})
	}
}

func TestEndParticipation(t *testing.T) {
	base := Certificate{ValidFrom: "2026-02-01", ValidTo: "2026-04-30", Participation: ParticipationIssued}
	tests := []struct {
		name    string
		state   Participation
		outcome Participation
		day     string
		fields  []string
		want    string
	}{
		{"drop-out", ParticipationStarted, ParticipationDroppedOut, "2026-03-01", nil, "2026-03-01"},
		{"drop-out on the first day", ParticipationIssued, ParticipationDroppedOut, "2026-02-01", nil, "2026-02-01"},
		{"drop-out today by default", ParticipationStarted, ParticipationDroppedOut, "", nil, "2026-03-10"},
		{"drop-out before the start", ParticipationStarted, ParticipationDroppedOut, "2026-01-31", []string{"end_date"}, ""},
		{"drop-out in the future", ParticipationStarted, ParticipationDroppedOut, "2026-03-11", []string{"end_date"}, ""},
		{"never started", ParticipationIssued, ParticipationNeverStarted, "2026-01-20", nil, "2026-01-20"},
		{"never started after starting", ParticipationStarted, ParticipationNeverStarted, "2026-03-01", []string{"outcome"}, ""},
		{"already ended", ParticipationDroppedOut, ParticipationDroppedOut, "2026-03-01", []string{"name"}, ""},
		{"not an outcome", ParticipationIssued, ParticipationStarted, "2026-03-01", []string{"outcome"}, ""},
		{"renewed", "renewed", ParticipationDroppedOut, "2026-03-01", nil, "2026-03-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			c.Participation = tt.state
			if tt.state == "renewed" {
				c.Participation, c.RenewedBy = ParticipationStarted, "organisers/x/activities/a/certificates/next"
			}
			err := c.End(tt.outcome, tt.day, "2026-03-10")
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v (%v)", got, tt.fields, err)
			}
			if err == nil && (c.EndDate != tt.want || c.Participation != tt.outcome) {
				t.Fatalf("certificate = %+v", c)
			}
		})
	}
	c := base
	c.Participation = ParticipationNeverStarted
	if err := c.Start(); err == nil {
		t.Fatal("started after never starting")
	}
}

func TestCheck(t *testing.T) {
	c := Certificate{Org: "8020038884", ActivityID: "a", ID: "c", Dossier: "12-345678", ValidFrom: "2026-02-01",
		ValidTo: "2026-04-30", Participation: ParticipationStarted}
	dropped := c
	dropped.Participation, dropped.EndDate = ParticipationDroppedOut, "2026-03-01"
	never := c
	never.Participation, never.EndDate = ParticipationNeverStarted, "2026-02-05"
	act := "organisers/8020038884/activities/a"
	tests := []struct {
		name    string
		c       *Certificate
		dossier string
		act     string
		day     string
		want    []string
	}{
		{"valid", &c, "12-345678", act, "2026-03-01", nil},
		{"last day", &c, "12-345678", act, "2026-04-30", nil},
		{"not found", nil, "12-345678", act, "2026-03-01", []string{ReasonNotFound}},
		{"wrong participant", &c, "12-000000", act, "2026-03-01", []string{ReasonWrongParticipant}},
		{"wrong activity", &c, "12-345678", "organisers/8020038884/activities/b", "2026-03-01", []string{ReasonWrongActivity}},
		{"before", &c, "12-345678", act, "2026-01-31", []string{ReasonNotValidOnDate}},
		{"after", &c, "12-345678", act, "2026-05-01", []string{ReasonNotValidOnDate}},
		{"drop-out day", &dropped, "12-345678", act, "2026-03-01", nil},
		{"after drop-out", &dropped, "12-345678", act, "2026-03-02", []string{ReasonEnded}},
		{"never started", &never, "12-345678", act, "2026-02-02", []string{ReasonEnded}},
		{"several", &dropped, "12-000000", act, "2026-05-01", []string{ReasonWrongParticipant, ReasonNotValidOnDate, ReasonEnded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.c, tt.dossier, tt.act, tt.day)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("reasons = %v, want %v", got, tt.want)
			}
			if tt.c != nil && (len(got) == 0) != (tt.c.ActiveOn(tt.day) && tt.c.Dossier == tt.dossier && tt.c.ActivityName() == tt.act) {
				t.Fatalf("Check and ActiveOn disagree")
			}
		})
	}
}

func TestAddMonths(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-01-31", "2026-04-30"},
		{"2026-11-30", "2027-02-28"},
		{"2027-11-30", "2028-02-29"},
		{"2026-03-15", "2026-06-15"},
	}
	for _, tt := range tests {
		if got := AddMonths(date(tt.in), 3).Format(DateLayout); got != tt.want {
			t.Errorf("AddMonths(%s, 3) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := ValidTo(date("2026-11-30")).Format(DateLayout); got != "2027-02-27" {
		t.Errorf("ValidTo = %s", got)
	}
}

func TestCoverage(t *testing.T) {
	// Uppsala län (03): 0380 Uppsala has supply; 0381 Enköping none but a route.
	in := map[string]CoverageInput{
		"0380": {Target: 100, Projected: 120, Activities: 2, Capacity: 40, Participants: 30},
		"0381": {Target: 50, RouteActivities: 2, RouteCapacity: 40},
		"0382": {Target: 80},
		"0360": {Target: 10, Activities: 1, Capacity: 20, Participants: 25},
	}
	c := ComputeCoverage("03", in, []string{"0380", "0360", "0180"})
	by := map[string]KommunCoverage{}
	for _, k := range c.Kommuner {
		by[k.Code] = k
	}
	if len(c.Kommuner) != len(refdata.KommunerIn("03")) {
		t.Fatalf("kommuner = %d", len(c.Kommuner))
	}
	if k := by["0380"]; k.UnmetNeed != 60 || k.Utilisation != 0.75 || k.NearestKm != 0 || k.NearestKommun != "0380" {
		t.Errorf("0380 = %+v", k)
	}
	if k := by["0381"]; k.UnmetNeed != 10 || k.Utilisation != 0 || k.NearestKm <= 0 {
		t.Errorf("0381 = %+v", k)
	}
	if k := by["0360"]; k.UnmetNeed != 0 || k.Utilisation != 1.25 {
		t.Errorf("0360 = %+v", k)
	}
	if k := by["0382"]; k.UnmetNeed != 80 {
		t.Errorf("0382 = %+v", k)
	}
	if !slices.Equal(c.Ranked, []string{"0382", "0380", "0381"}) {
		t.Errorf("ranked = %v", c.Ranked)
	}
	if c.Total.Target != 240 || c.Total.Capacity != 60 || c.Total.Participants != 55 || c.Total.UnmetNeed != 150 {
		t.Errorf("total = %+v", c.Total)
	}
	// The nearest activity is the nearest seat with one, even in another län.
	uppsala, _ := refdata.KommunByCode("0380")
	enkoping, _ := refdata.KommunByCode("0381")
	stockholm, _ := refdata.KommunByCode("0180")
	km, code := Nearest(enkoping, []refdata.Kommun{uppsala, stockholm})
	want := refdata.DistanceKm(enkoping, uppsala)
	if d := refdata.DistanceKm(enkoping, stockholm); d < want {
		want = d
	}
	if code == "" || km < want-0.1 || km > want+0.1 {
		t.Errorf("Nearest = %v %s, want %v", km, code, want)
	}
	if km, code := Nearest(enkoping, nil); km != -1 || code != "" {
		t.Errorf("Nearest of none = %v %q", km, code)
	}
	if none := ComputeCoverage("03", nil, nil); none.Total.NearestKm != -1 || len(none.Ranked) != 0 {
		t.Errorf("empty coverage = %+v", none.Total)
	}
}

func TestReportPeriod(t *testing.T) {
	tests := []struct {
		f        Frequency
		today    string
		from, to string
	}{
		{Monthly, "2026-03-10", "2026-02-01", "2026-02-28"},
		{Monthly, "2026-01-01", "2025-12-01", "2025-12-31"},
		{"", "2026-03-10", "2026-02-01", "2026-02-28"},
		{Weekly, "2026-03-10", "2026-03-02", "2026-03-08"}, // a Tuesday
		{Weekly, "2026-03-09", "2026-03-02", "2026-03-08"}, // a Monday
		{Weekly, "2026-03-08", "2026-02-23", "2026-03-01"}, // a Sunday
		{Quarterly, "2026-05-20", "2026-01-01", "2026-03-31"},
		{Quarterly, "2026-01-05", "2025-10-01", "2025-12-31"},
	}
	for _, tt := range tests {
		from, to := ReportPeriod(tt.f, date(tt.today))
		if from != tt.from || to != tt.to {
			t.Errorf("ReportPeriod(%s, %s) = %s..%s, want %s..%s", tt.f, tt.today, from, to, tt.from, tt.to)
		}
	}
}

// TestNearestOngoing: the precomputed neighbour lists give what a search
// over every seat gives.
func TestNearestOngoing(t *testing.T) {
	with := []string{"0180", "0380", "1280", "2580", "1480", "0584"}
	set := map[string]bool{}
	var seats []refdata.Kommun
	for _, c := range with {
		set[c] = true
		k, _ := refdata.KommunByCode(c)
		seats = append(seats, k)
	}
	for _, k := range refdata.Kommuner() {
		km, code := nearestOngoing(k.Code, set)
		wantKm, wantCode := Nearest(k, seats)
		if km != wantKm || code != wantCode {
			t.Fatalf("%s: nearestOngoing = %v %s, Nearest = %v %s", k.Code, km, code, wantKm, wantCode)
		}
	}
}
