package embedded

import (
	"context"
	"fmt"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/auth"
)

// seedActivity registers the two demo organisers with their contacts, an
// agreement with the county board of Stockholm, a few activities and a
// participation certificate for the demo asylum seeker.
func seedActivity(ctx context.Context, d demo) error {
	activities := activityv1.NewActivityServiceClient(d.p.Channel)
	for _, o := range []struct {
		org  auth.Principal
		name string
		kind activityv1.OrganiserKind
	}{
		{DemoStudyAssociation, "Studieförbundet Demo", activityv1.OrganiserKind_ORGANISER_KIND_STUDY_ASSOCIATION},
		{DemoFolkHighSchool, "Demo folkhögskola", activityv1.OrganiserKind_ORGANISER_KIND_FOLK_HIGH_SCHOOL},
	} {
		if _, err := activities.CreateOrganiser(ctx, &activityv1.CreateOrganiserRequest{Organiser: &activityv1.Organiser{
			OrgNumber: o.org.Org, DisplayName: o.name, Kind: o.kind,
			Contacts: []*activityv1.Contact{
				{Role: activityv1.ContactRole_CONTACT_ROLE_REGIONAL, DisplayName: "Regional samordnare", Email: "tia@" + o.org.Org + ".example", Phone: "08-123 456 00"},
				{Role: activityv1.ContactRole_CONTACT_ROLE_PARTICIPANTS, DisplayName: "Deltagarkontakt", Email: "deltagare@" + o.org.Org + ".example"},
			},
		}}, d.as(o.org)); err != nil {
			return fmt.Errorf("seed organiser %s: %w", o.name, err)
		}
	}

	board := d.as(DemoCountyBoard)
	agreement, err := activities.CreateAgreement(ctx, &activityv1.CreateAgreementRequest{Parent: "lan/01", Agreement: &activityv1.Agreement{
		Organiser: "organisers/" + DemoStudyAssociation.Org, StartDate: d.date(0), EndDate: d.date(300),
		Description: "Språk- och samhällsinsatser i Stockholms län",
	}}, board)
	if err != nil {
		return fmt.Errorf("seed agreement: %w", err)
	}

	var first string
	for _, a := range []struct {
		org       auth.Principal
		title     string
		kommun    string
		focus     []activityv1.Focus
		cap       int32
		from      int
		to        int
		funding   activityv1.FundingBasis
		programme activityv1.Programme
		agreement string
		languages []string
	}{
		{DemoStudyAssociation, "Svenska från dag ett", "0180", []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH}, 25, -30, 60,
			activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2015_521, activityv1.Programme_PROGRAMME_SVENSKA_FRAN_DAG_ETT, "", []string{"sv", "ar"}},
		{DemoStudyAssociation, "Samhällsorientering på arabiska och dari", "0380", []activityv1.Focus{activityv1.Focus_FOCUS_SOCIETY}, 18, -10, 80,
			activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364, 0, "", []string{"ar", "prs"}},
		{DemoStudyAssociation, "Vägen till arbete", "1280", []activityv1.Focus{activityv1.Focus_FOCUS_LABOUR_MARKET, activityv1.Focus_FOCUS_SWEDISH}, 15, 14, 120,
			activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364, 0, "", []string{"sv", "en"}},
		{DemoStudyAssociation, "Arbetsmarknadssvenska", "0184", []activityv1.Focus{activityv1.Focus_FOCUS_LABOUR_MARKET, activityv1.Focus_FOCUS_SWEDISH}, 15, 1, 200,
			activityv1.FundingBasis_FUNDING_BASIS_AGREEMENT, 0, agreement.GetName(), []string{"sv", "en"}},
		{DemoFolkHighSchool, "Vardagssvenska", "2580", []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH}, 20, -60, 30,
			activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2015_521, activityv1.Programme_PROGRAMME_VARDAGSSVENSKA, "", []string{"sv", "ti"}},
		{DemoFolkHighSchool, "Hälsa och friskvård", "1480", []activityv1.Focus{activityv1.Focus_FOCUS_HEALTH}, 30, 7, 97,
			activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364, 0, "", []string{"sv", "so"}},
	} {
		created, err := activities.CreateActivity(ctx, &activityv1.CreateActivityRequest{
			Parent: "organisers/" + a.org.Org,
			Activity: &activityv1.Activity{
				Title: a.title, KommunCode: a.kommun, Focus: a.focus, Capacity: a.cap,
				StartDate: d.date(a.from), EndDate: d.date(a.to), FundingBasis: a.funding, Programme: a.programme,
				Agreement: a.agreement, Languages: a.languages, Address: "Storgatan 1", Schedule: "mån och ons 10–12",
			},
		}, d.as(a.org))
		if err != nil {
			return fmt.Errorf("seed activity %q: %w", a.title, err)
		}
		if first == "" {
			first = created.GetName()
		}
	}

	org := d.as(DemoStudyAssociation)
	if _, err := activities.CreateCertificate(ctx, &activityv1.CreateCertificateRequest{
		Parent: first, Certificate: &activityv1.Certificate{DossierNumber: DemoAsylumSeeker.Dossier},
	}, org); err != nil {
		return fmt.Errorf("seed certificate: %w", err)
	}
	return nil
}
