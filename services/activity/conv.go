package activity

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
)

var fundingToProto = map[domain.Funding]activityv1.FundingBasis{
	domain.FundingAgreement:     activityv1.FundingBasis_FUNDING_BASIS_AGREEMENT,
	domain.FundingOrdinance2016: activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364,
	domain.FundingOrdinance2015: activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2015_521,
	domain.FundingJobskills:     activityv1.FundingBasis_FUNDING_BASIS_JOBSKILLS,
}

var programmeToProto = map[domain.Programme]activityv1.Programme{
	domain.ProgrammeSvenskaFranDagEtt: activityv1.Programme_PROGRAMME_SVENSKA_FRAN_DAG_ETT,
	domain.ProgrammeVardagssvenska:    activityv1.Programme_PROGRAMME_VARDAGSSVENSKA,
}

var kindToProto = map[domain.Kind]activityv1.OrganiserKind{
	domain.KindStudyAssociation:   activityv1.OrganiserKind_ORGANISER_KIND_STUDY_ASSOCIATION,
	domain.KindFolkHighSchool:     activityv1.OrganiserKind_ORGANISER_KIND_FOLK_HIGH_SCHOOL,
	domain.KindNonProfit:          activityv1.OrganiserKind_ORGANISER_KIND_NON_PROFIT,
	domain.KindFaithCommunity:     activityv1.OrganiserKind_ORGANISER_KIND_FAITH_COMMUNITY,
	domain.KindMunicipality:       activityv1.OrganiserKind_ORGANISER_KIND_MUNICIPALITY,
	domain.KindRegion:             activityv1.OrganiserKind_ORGANISER_KIND_REGION,
	domain.KindArbetsformedlingen: activityv1.OrganiserKind_ORGANISER_KIND_ARBETSFORMEDLINGEN,
}

var contactRoleToProto = map[domain.ContactRole]activityv1.ContactRole{
	domain.ContactRegional:     activityv1.ContactRole_CONTACT_ROLE_REGIONAL,
	domain.ContactParticipants: activityv1.ContactRole_CONTACT_ROLE_PARTICIPANTS,
}

var participationToProto = map[domain.Participation]activityv1.Participation{
	domain.ParticipationIssued:       activityv1.Participation_PARTICIPATION_ISSUED,
	domain.ParticipationStarted:      activityv1.Participation_PARTICIPATION_STARTED,
	domain.ParticipationDroppedOut:   activityv1.Participation_PARTICIPATION_DROPPED_OUT,
	domain.ParticipationNeverStarted: activityv1.Participation_PARTICIPATION_NEVER_STARTED,
}

// reverse inverts one of the maps above.
func reverse[K comparable, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

var (
	focusFromProto         = reverse(focusToProto)
	fundingFromProto       = reverse(fundingToProto)
	programmeFromProto     = reverse(programmeToProto)
	kindFromProto          = reverse(kindToProto)
	contactRoleFromProto   = reverse(contactRoleToProto)
	participationFromProto = reverse(participationToProto)
)

func fromProto(p *activityv1.Activity) domain.Activity {
	a := domain.Activity{
		Title: p.GetTitle(), KommunCode: p.GetKommunCode(), Capacity: p.GetCapacity(),
		StartDate: p.GetStartDate(), EndDate: p.GetEndDate(),
		Funding: fundingFromProto[p.GetFundingBasis()], Programme: programmeFromProto[p.GetProgramme()],
		Agreement: p.GetAgreement(), Address: p.GetAddress(), Schedule: p.GetSchedule(), Languages: p.GetLanguages(),
	}
	for _, f := range p.GetFocus() {
		if d, ok := focusFromProto[f]; ok {
			a.Focus = append(a.Focus, d)
		}
	}
	return a
}

func toProto(a domain.Activity, now time.Time) *activityv1.Activity {
	p := &activityv1.Activity{
		Name: a.Name(), Title: a.Title, KommunCode: a.KommunCode, LanCode: a.LanCode, Capacity: a.Capacity,
		StartDate: a.StartDate, EndDate: a.EndDate, Status: statusToProto[a.StatusOn(now)],
		CreateTime: timestamppb.New(a.CreateTime), UpdateTime: timestamppb.New(a.UpdateTime),
		FundingBasis: fundingToProto[a.Funding], Programme: programmeToProto[a.Programme], Agreement: a.Agreement,
		Address: a.Address, Schedule: a.Schedule, Languages: a.Languages,
	}
	for _, f := range a.Focus {
		p.Focus = append(p.Focus, focusToProto[f])
	}
	return p
}

func organiserFromProto(p *activityv1.Organiser) domain.Organiser {
	o := domain.Organiser{OrgNumber: p.GetOrgNumber(), DisplayName: p.GetDisplayName(), Kind: kindFromProto[p.GetKind()]}
	o.Contacts = contactsFromProto(p.GetContacts())
	return o
}

func contactsFromProto(cs []*activityv1.Contact) []domain.Contact {
	var out []domain.Contact
	for _, c := range cs {
		out = append(out, domain.Contact{Role: contactRoleFromProto[c.GetRole()], DisplayName: c.GetDisplayName(),
			Email: c.GetEmail(), Phone: c.GetPhone(), LanCodes: c.GetLanCodes()})
	}
	return out
}

func contactToProto(c domain.Contact) *activityv1.Contact {
	return &activityv1.Contact{Role: contactRoleToProto[c.Role], DisplayName: c.DisplayName, Email: c.Email,
		Phone: c.Phone, LanCodes: c.LanCodes}
}

func organiserToProto(o domain.Organiser) *activityv1.Organiser {
	p := &activityv1.Organiser{Name: o.Name(), OrgNumber: o.OrgNumber, DisplayName: o.DisplayName, Kind: kindToProto[o.Kind],
		CreateTime: timestamppb.New(o.CreateTime), UpdateTime: timestamppb.New(o.UpdateTime)}
	for _, c := range o.Contacts {
		p.Contacts = append(p.Contacts, contactToProto(c))
	}
	return p
}

func agreementToProto(a domain.Agreement) *activityv1.Agreement {
	return &activityv1.Agreement{Name: a.Name(), Organiser: "organisers/" + a.OrgNumber, SignDate: a.SignDate,
		StartDate: a.StartDate, EndDate: a.EndDate, EndedDate: a.EndedDate, Description: a.Description,
		CreateTime: timestamppb.New(a.CreateTime)}
}

func certificateToProto(c domain.Certificate) *activityv1.Certificate {
	return &activityv1.Certificate{Name: c.Name(), DossierNumber: c.Dossier, ValidFrom: c.ValidFrom, ValidTo: c.ValidTo,
		Renews: c.Renews, Participation: participationToProto[c.Participation], EndDate: c.EndDate,
		CreateTime: timestamppb.New(c.CreateTime)}
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
