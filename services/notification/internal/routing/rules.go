package routing

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/events"
)

// Rules maps the full protobuf name of each event to its rule. Read it as
// the table of who is told what:
//
//	event                                   topic                           recipients
//	activity.ActivityRegistered             activity.registered             county board of the län
//	activity.ActivityStarted                activity.started                county board of the län
//	activity.ParticipationEnded             participation.ended             Migrationsverket (regional contact of the län)
//	statistics.SnapshotPublished            statistics.snapshot_published   county board of every län in the snapshot
//	statistics.ProjectionPublished          statistics.projection_published county board of every län in the projection
//	travel.RouteDecided                     travel.route_decided            county boards and organisers of both ends' län
//	travel.RouteRevoked                     travel.route_revoked            county boards and organisers of both ends' län
//	activity.ActivityUpdated                activity.updated                county board of the län
//	activity.OrganiserRegistered            organiser.registered            county board of every län the organiser names a contact for
//	activity.AgreementSigned                agreement.signed                the organiser, the county board, Migrationsverket (regional contact)
//	activity.AgreementEnded                 agreement.ended                 the organiser, the county board, Migrationsverket (regional contact)
//	activity.FolkbildningReportPublished    folkbildning.report_published   county board of the län
//	travel.ConsultationOpened               travel.consultation_opened      county boards, organisers and forum members of the län concerned
//	travel.ConsultationDecided              travel.consultation_decided     every respondent (with the feedback on its response), county boards
//	travel.ClaimDecided                     travel.claim_decided            the claimant (asylum seeker)
//	travel.ClaimPaid                        travel.claim_paid               the claimant (asylum seeker)
//	activity.OrganiserContactsChanged       (none)                          nobody: it fills the contact directory of each län
var Rules = table(
	// The organiser's participant contacts enter the contact directory
	// (the service's read model); the county board already heard of the
	// organiser (organiser.registered).
	rule("", func(context.Context, *activityv1.OrganiserContactsChanged, Directory) ([]Message, error) {
		return nil, nil
	}),

	rule("activity.registered",
		func(_ context.Context, ev *activityv1.ActivityRegistered, _ Directory) ([]Message, error) {
			a := ev.GetActivity()
			return to(a.GetName(), activityData(a), CountyBoard(a.GetLanCode())), nil
		}),

	rule("activity.started",
		func(_ context.Context, ev *activityv1.ActivityStarted, _ Directory) ([]Message, error) {
			a := ev.GetActivity()
			return to(a.GetName(), activityData(a), CountyBoard(a.GetLanCode())), nil
		}),

	rule("participation.ended",
		func(_ context.Context, ev *activityv1.ParticipationEnded, _ Directory) ([]Message, error) {
			// The dossier number stays out of the message: it would travel
			// by email and webhook. Migrationsverket looks it up from the
			// certificate.
			data := map[string]any{
				"Certificate": ev.GetCertificate(), "Activity": ev.GetActivity(),
				"NeverStarted": ev.GetOutcome() == activityv1.Participation_PARTICIPATION_NEVER_STARTED,
				"EndDate":      ev.GetEndDate(), "Kommun": kommunName(ev.GetKommunCode()), "Lan": lanName(ev.GetLanCode()),
			}
			return to(ev.GetCertificate(), data, MigrationsverketRegion(ev.GetLanCode())), nil
		}),

	rule("statistics.snapshot_published",
		func(_ context.Context, ev *statisticsv1.SnapshotPublished, _ Directory) ([]Message, error) {
			return perLan(ev.GetSnapshot(), ev.GetKommunTotals(), map[string]any{"ReferenceDate": ev.GetReferenceDate()}), nil
		}),

	rule("statistics.projection_published",
		func(_ context.Context, ev *statisticsv1.ProjectionPublished, _ Directory) ([]Message, error) {
			return perLan(ev.GetSnapshot(), ev.GetKommunTotals(), map[string]any{"ProjectionDate": ev.GetProjectionDate()}), nil
		}),

	rule("travel.route_decided",
		func(ctx context.Context, ev *travelv1.RouteDecided, dir Directory) ([]Message, error) {
			return routeMessages(ctx, ev.GetRoute(), "", dir)
		}),

	rule("travel.route_revoked",
		func(ctx context.Context, ev *travelv1.RouteRevoked, dir Directory) ([]Message, error) {
			return routeMessages(ctx, ev.GetRoute(), ev.GetRevokedFrom(), dir)
		}),

	rule("activity.updated",
		func(_ context.Context, ev *activityv1.ActivityUpdated, _ Directory) ([]Message, error) {
			a := ev.GetActivity()
			data := activityData(a)
			data["Changed"] = strings.Join(ev.GetChangedFields(), ", ")
			return to(a.GetName(), data, CountyBoard(a.GetLanCode())), nil
		}),

	rule("organiser.registered",
		func(_ context.Context, ev *activityv1.OrganiserRegistered, _ Directory) ([]Message, error) {
			o := ev.GetOrganiser()
			var boards []string
			for _, lan := range OrganiserLans(o) {
				boards = append(boards, CountyBoard(lan))
			}
			data := map[string]any{"Organiser": o.GetDisplayName(), "Name": o.GetName(), "OrgNumber": o.GetOrgNumber()}
			return to(o.GetName(), data, boards...), nil
		}),

	rule("agreement.signed",
		func(_ context.Context, ev *activityv1.AgreementSigned, _ Directory) ([]Message, error) {
			return agreementMessages(ev.GetAgreement(), ev.GetLanCode()), nil
		}),

	rule("agreement.ended",
		func(_ context.Context, ev *activityv1.AgreementEnded, _ Directory) ([]Message, error) {
			return agreementMessages(ev.GetAgreement(), ev.GetLanCode()), nil
		}),

	rule("folkbildning.report_published",
		func(_ context.Context, ev *activityv1.FolkbildningReportPublished, _ Directory) ([]Message, error) {
			r := ev.GetReport()
			lan := ev.GetLanCode()
			var kommuner []string
			for _, k := range r.GetKommuner() {
				kommuner = append(kommuner, fmt.Sprintf("%s: %d (%d platser)", k.GetKommunName(), k.GetActivities(), k.GetCapacity()))
			}
			data := map[string]any{
				"Lan": lanName(lan), "StartDate": r.GetStartDate(), "EndDate": r.GetEndDate(),
				"Activities": len(r.GetActivities()), "Capacity": r.GetTotalCapacity(), "Kommuner": kommuner,
			}
			return to(r.GetLan(), data, CountyBoard(lan)), nil
		}),

	rule("travel.consultation_opened",
		func(ctx context.Context, ev *travelv1.ConsultationOpened, dir Directory) ([]Message, error) {
			c := ev.GetConsultation()
			var recipients []string
			for _, lan := range c.GetLanCodes() {
				recipients = append(recipients, CountyBoard(lan))
			}
			recipients, err := group(ctx, recipients, dir.Organisers, c.GetLanCodes()...)
			if err != nil {
				return nil, err
			}
			if recipients, err = group(ctx, recipients, dir.ForumMembers, c.GetLanCodes()...); err != nil {
				return nil, err
			}
			data := consultationData(c)
			return to(c.GetName(), data, recipients...), nil
		}),

	rule("travel.consultation_decided",
		func(_ context.Context, ev *travelv1.ConsultationDecided, _ Directory) ([]Message, error) {
			c := ev.GetConsultation()
			feedback := map[string]string{}
			for _, f := range c.GetDecision().GetFeedback() {
				feedback[f.GetResponse()] = f.GetText()
			}
			var out []Message
			seen := map[string]bool{}
			// Each respondent hears what was done with its own response.
			for _, r := range c.GetResponses() {
				recipient := CountyBoard(r.GetLanCode())
				if r.GetOrgNumber() != "" {
					recipient = Organiser(r.GetOrgNumber())
				}
				if seen[recipient] || !ValidRecipient(recipient) {
					continue
				}
				seen[recipient] = true
				data := consultationData(c)
				data["Feedback"] = feedback[r.GetName()]
				data["Response"] = r.GetComment()
				out = append(out, Message{Recipient: recipient, SubjectResource: c.GetName(), Data: data})
			}
			for _, lan := range c.GetLanCodes() {
				if !seen[CountyBoard(lan)] {
					seen[CountyBoard(lan)] = true
					out = append(out, Message{Recipient: CountyBoard(lan), SubjectResource: c.GetName(), Data: consultationData(c)})
				}
			}
			return out, nil
		}),

	rule("travel.claim_decided",
		func(_ context.Context, ev *travelv1.ClaimDecided, dir Directory) ([]Message, error) {
			return claimMessages(ev.GetClaim(), 0, dir), nil
		}),

	rule("travel.claim_paid",
		func(_ context.Context, ev *travelv1.ClaimPaid, dir Directory) ([]Message, error) {
			return claimMessages(ev.GetClaim(), ev.GetAmountOre(), dir), nil
		}),
)

// OrganiserLans are the län an organiser names contacts for.
func OrganiserLans(o *activityv1.Organiser) []string {
	var lans []string
	for _, c := range o.GetContacts() {
		for _, lan := range c.GetLanCodes() {
			if !slices.Contains(lans, lan) {
				lans = append(lans, lan)
			}
		}
	}
	return lans
}

func agreementMessages(a *activityv1.Agreement, lan string) []Message {
	data := map[string]any{
		"Name": a.GetName(), "Organiser": a.GetOrganiser(), "Lan": lanName(lan), "SignDate": a.GetSignDate(),
		"StartDate": a.GetStartDate(), "EndDate": a.GetEndDate(), "EndedDate": a.GetEndedDate(),
	}
	return to(a.GetName(), data, OrganiserOf(a.GetOrganiser()), CountyBoard(lan), MigrationsverketRegion(lan))
}

func consultationData(c *travelv1.Consultation) map[string]any {
	var routes []string
	for _, r := range c.GetProposals() {
		routes = append(routes, kommunName(r.GetFromKommunCode())+"–"+kommunName(r.GetToKommunCode()))
	}
	var lans []string
	for _, l := range c.GetLanCodes() {
		lans = append(lans, lanName(l))
	}
	return map[string]any{
		"Name": c.GetName(), "Deadline": c.GetDeadline(), "Routes": strings.Join(routes, ", "), "Lans": strings.Join(lans, ", "),
		"Description": c.GetDescription(), "Reason": c.GetDecision().GetReason(),
		"Approved": len(c.GetDecision().GetApproved()), "Proposed": len(c.GetProposals()),
	}
}

// claimMessages tell the claimant. The claimant's inbox is named by a
// pseudonym of the dossier number; the number itself never enters a
// message.
func claimMessages(c *travelv1.Claim, amountOre int64, people People) []Message {
	if c.GetDossierNumber() == "" {
		return nil
	}
	if amountOre == 0 {
		amountOre = c.GetCostOre()
	}
	data := map[string]any{
		"Name": c.GetName(), "TripDate": c.GetTripDate(), "From": kommunName(c.GetFromKommunCode()), "To": kommunName(c.GetToKommunCode()),
		"Approved": c.GetState() == travelv1.ClaimState_CLAIM_STATE_APPROVED || c.GetState() == travelv1.ClaimState_CLAIM_STATE_PAID,
		"Rejected": c.GetState() == travelv1.ClaimState_CLAIM_STATE_REJECTED,
		"Reason":   c.GetDecisionReason(), "Amount": fmt.Sprintf("%d,%02d", amountOre/100, amountOre%100),
	}
	m := to(c.GetName(), data, people.AsylumSeeker(c.GetDossierNumber()))
	for i := range m {
		m[i].Dossier = c.GetDossierNumber()
	}
	return m
}

// table keys the rules by the full name of their event's type, derived
// from the proto (events.TypeOf), not typed by hand.
func table(rules ...Rule) map[string]Rule {
	out := make(map[string]Rule, len(rules))
	for _, r := range rules {
		out[events.TypeOf(r.New())] = r
	}
	return out
}

// rule adapts a typed routing function to the table.
func rule[T proto.Message](topic string, route func(context.Context, T, Directory) ([]Message, error)) Rule {
	var zero T
	return Rule{
		Topic: topic,
		New:   func() proto.Message { return zero.ProtoReflect().New().Interface() },
		Route: func(ctx context.Context, ev proto.Message, dir Directory) ([]Message, error) {
			return route(ctx, ev.(T), dir)
		},
	}
}

// focusNames are the focus areas in Swedish and English.
var focusNames = map[activityv1.Focus][2]string{
	activityv1.Focus_FOCUS_SWEDISH:       {"svenska språket", "the Swedish language"},
	activityv1.Focus_FOCUS_SOCIETY:       {"samhällskunskap", "Swedish society"},
	activityv1.Focus_FOCUS_LABOUR_MARKET: {"arbetsmarknad", "the labour market"},
	activityv1.Focus_FOCUS_HEALTH:        {"hälsa", "health"},
}

func activityData(a *activityv1.Activity) map[string]any {
	var sv, en []string
	for _, f := range a.GetFocus() {
		if n, ok := focusNames[f]; ok {
			sv, en = append(sv, n[0]), append(en, n[1])
		}
	}
	return map[string]any{
		"Title": a.GetTitle(), "Name": a.GetName(), "Kommun": kommunName(a.GetKommunCode()), "Lan": lanName(a.GetLanCode()),
		"StartDate": a.GetStartDate(), "EndDate": a.GetEndDate(), "Capacity": a.GetCapacity(),
		"FocusSv": strings.Join(sv, ", "), "FocusEn": strings.Join(en, ", "),
	}
}

// perLan tells the county board of each län in totals its own figures.
func perLan(subject string, totals []*statisticsv1.KommunTotal, common map[string]any) []Message {
	adults := map[string]int64{}
	kommuner := map[string]int{}
	var order []string
	for _, t := range totals {
		lan := t.GetLanCode()
		if lan == "" {
			lan = lanOf(t.GetKommunCode())
		}
		if _, ok := adults[lan]; !ok {
			order = append(order, lan)
		}
		adults[lan] += t.GetAdults()
		kommuner[lan]++
	}
	var out []Message
	for _, lan := range order {
		data := map[string]any{"Snapshot": subject, "Lan": lanName(lan), "Adults": adults[lan], "Kommuner": kommuner[lan]}
		for k, v := range common {
			data[k] = v
		}
		out = append(out, to(subject, data, CountyBoard(lan))...)
	}
	return out
}

// routeMessages tells the county boards and the organisers of the län at
// both ends of a route.
func routeMessages(ctx context.Context, r *travelv1.Route, revokedFrom string, dir Directory) ([]Message, error) {
	lans := []string{lanOf(r.GetFromKommunCode())}
	if l := lanOf(r.GetToKommunCode()); l != lans[0] {
		lans = append(lans, l)
	}
	var recipients []string
	for _, lan := range lans {
		recipients = append(recipients, CountyBoard(lan))
	}
	recipients, err := group(ctx, recipients, dir.Organisers, lans...)
	if err != nil {
		return nil, err
	}
	data := map[string]any{
		"From": kommunName(r.GetFromKommunCode()), "To": kommunName(r.GetToKommunCode()),
		"ValidFrom": r.GetValidFrom(), "ValidTo": r.GetValidTo(), "Reason": r.GetReason(),
		"DistanceKm": r.GetDistanceKm(), "RevokedFrom": revokedFrom,
	}
	return to(r.GetName(), data, recipients...), nil
}
