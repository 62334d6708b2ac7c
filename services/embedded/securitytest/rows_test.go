package securitytest

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	auditv1 "github.com/tia-platform/tia/proto/gen/tia/audit/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/statistics/generate"
)

// Want strings, one code per caller in this order:
//
//	anonymous  migrationsverket  lansstyrelse-own(01)  lansstyrelse-other(12)  folkbildningsradet
//	organiser-own(A)  organiser-other(B)  organiser-unregistered(C)  asylum-seeker-own(A)  asylum-seeker-other(B)
const (
	public    = "OK OK OK OK OK OK OK OK OK OK"
	signedIn  = "UA OK OK OK OK OK OK OK OK OK"
	mvOnly    = "UA OK PD PD PD PD PD PD PD PD"
	board01   = "UA PD OK PD PD PD PD PD PD PD" // the county board of the own län only
	orgAOnly  = "UA PD PD PD PD OK PD PD PD PD"
	lanReader = "UA OK OK PD OK PD PD PD PD PD" // Migrationsverket, Folkbildningsrådet, own county board
	mvBoard01 = "UA OK OK PD PD PD PD PD PD PD"
	personA   = "UA OK PD PD PD PD PD PD OK PD" // Migrationsverket and the person
	// Forum meetings (minutes, feedback): members (orgA, Migrationsverket's
	// regional office), the county board, Migrationsverket.
	forum = "UA OK OK PD PD OK PD PD PD PD"
)

func r(method, variant, want string, req func(w *world, c caller) proto.Message) row {
	return row{method: method, variant: variant, want: want, req: req}
}

func (x row) checked(f func(w *world, c caller, resp proto.Message) error) row {
	x.check = f
	return x
}

const (
	act = "tia.activity.v1.ActivityService/"
	sta = "tia.statistics.v1.StatisticsService/"
	tra = "tia.travel.v1.TravelService/"
	not = "tia.notification.v1.NotificationService/"
)

// luhnOrg is a fresh organisation number that passes the Luhn check.
func luhnOrg(n int64) string {
	base := fmt.Sprintf("802%06d", 200000+n%700000)
	for d := 0; d < 10; d++ {
		s := base + fmt.Sprint(d)
		sum := 0
		for i, ch := range s {
			v := int(ch - '0')
			if i%2 == 0 {
				v *= 2
				if v > 9 {
					v -= 9
				}
			}
			sum += v
		}
		if sum%10 == 0 {
			return s
		}
	}
	panic("unreachable")
}

// role is the caller's role ("" for anonymous and bad tokens).
func role(c caller) auth.Role {
	if c.pr == nil {
		return ""
	}
	return c.pr.Role
}

// matrix is the one table: every method (some in several variants) with
// the code each caller must get.
func matrix() []row {
	rows := []row{
		// ---- ActivityService ----
		r(act+"CreateActivity", "", "UA PD PD PD OK OK PD PD PD PD", func(w *world, c caller) proto.Message {
			return &activityv1.CreateActivityRequest{Parent: "organisers/" + orgA, Activity: activityBody(w, "0180")}
		}),
		r(act+"GetActivity", "", public, func(w *world, c caller) proto.Message {
			return &activityv1.GetActivityRequest{Name: w.activity}
		}),
		r(act+"ListActivities", "", public, func(w *world, c caller) proto.Message {
			return &activityv1.ListActivitiesRequest{Parent: "organisers/" + orgA}
		}),
		r(act+"CheckCertificate", "", personA, func(w *world, c caller) proto.Message {
			return &activityv1.CheckCertificateRequest{Name: w.certificate, DossierNumber: dossierA, Date: w.date(0), Activity: w.activity}
		}),
		r(act+"UpdateActivity", "", "UA PD PD PD OK OK PD PD PD PD", func(w *world, c caller) proto.Message {
			a := activityBody(w, "0180")
			a.Name, a.Title = w.activity, "Svenska från dag ett, grupp 2"
			return &activityv1.UpdateActivityRequest{Activity: a, UpdateMask: mask("title")}
		}),
		// Anyone may register an organisation; an organiser only itself
		// (here: a fresh number that is not the caller's).
		r(act+"CreateOrganiser", "", "UA PD OK OK OK PD PD PD PD PD", func(w *world, c caller) proto.Message {
			return &activityv1.CreateOrganiserRequest{Organiser: &activityv1.Organiser{
				OrgNumber: luhnOrg(w.uniq()), DisplayName: "Ny förening", Kind: activityv1.OrganiserKind_ORGANISER_KIND_NON_PROFIT}}
		}),
		r(act+"GetOrganiser", "", signedIn, func(w *world, c caller) proto.Message {
			return &activityv1.GetOrganiserRequest{Name: "organisers/" + orgA}
		}),
		// The county board of län 12 may not change an organiser that works
		// only in län 01 (issue 11.4).
		r(act+"UpdateOrganiser", "", "UA PD OK PD OK OK PD PD PD PD", func(w *world, c caller) proto.Message {
			return &activityv1.UpdateOrganiserRequest{Organiser: &activityv1.Organiser{Name: "organisers/" + orgA, DisplayName: "Studieförbundet Säkerhet"},
				UpdateMask: mask("display_name")}
		}),
		r(act+"ListOrganisers", "", signedIn, func(w *world, c caller) proto.Message {
			return &activityv1.ListOrganisersRequest{}
		}),
		r(act+"ListLanContacts", "", lanReader, func(w *world, c caller) proto.Message {
			return &activityv1.ListLanContactsRequest{Parent: "lan/01"}
		}),
		r(act+"CreateAgreement", "", board01, func(w *world, c caller) proto.Message {
			return &activityv1.CreateAgreementRequest{Parent: "lan/01", Agreement: &activityv1.Agreement{
				Organiser: "organisers/" + orgA, StartDate: w.date(0), EndDate: w.date(100), Description: "Matris"}}
		}),
		r(act+"GetAgreement", "", "UA OK OK PD OK OK PD PD PD PD", func(w *world, c caller) proto.Message {
			return &activityv1.GetAgreementRequest{Name: w.agreement}
		}),
		// Organisers list only their own agreements (orgB's list is empty).
		r(act+"ListAgreements", "", "UA OK OK PD OK OK OK OK PD PD", func(w *world, c caller) proto.Message {
			return &activityv1.ListAgreementsRequest{Parent: "lan/01"}
		}).checked(func(w *world, c caller, resp proto.Message) error {
			for _, a := range resp.(*activityv1.ListAgreementsResponse).GetAgreements() {
				if role(c) == auth.RoleOrganiser && a.GetOrganiser() != "organisers/"+c.pr.Org {
					return errorf("organiser %s sees agreement %s of %s", c.pr.Org, a.GetName(), a.GetOrganiser())
				}
			}
			return nil
		}),
		r(act+"EndAgreement", "", board01, func(w *world, c caller) proto.Message {
			return &activityv1.EndAgreementRequest{Name: w.fresh(c, "lansstyrelse-own", w.agreement, w.newAgreement), EndDate: w.date(30), RequestId: fmt.Sprintf("end-%d", w.uniq())}
		}),
		r(act+"CreateCertificate", "", orgAOnly, func(w *world, c caller) proto.Message {
			return &activityv1.CreateCertificateRequest{Parent: w.activity, Certificate: &activityv1.Certificate{
				DossierNumber: fmt.Sprintf("34-%06d", w.uniq())}}
		}),
		// Another person learns nothing of the certificate: NOT_FOUND.
		r(act+"GetCertificate", "", "UA OK PD PD PD OK PD PD OK NF", func(w *world, c caller) proto.Message {
			return &activityv1.GetCertificateRequest{Name: w.certificate}
		}),
		r(act+"ListCertificates", "", "UA OK PD PD PD OK PD PD OK OK", func(w *world, c caller) proto.Message {
			return &activityv1.ListCertificatesRequest{Parent: w.activity}
		}).checked(func(w *world, c caller, resp proto.Message) error {
			for _, cert := range resp.(*activityv1.ListCertificatesResponse).GetCertificates() {
				if role(c) == auth.RoleAsylumSeeker && cert.GetDossierNumber() != c.pr.Dossier {
					return errorf("an asylum seeker sees another person's certificate %s", cert.GetName())
				}
			}
			return nil
		}),
		r(act+"RenewCertificate", "", orgAOnly, func(w *world, c caller) proto.Message {
			return &activityv1.RenewCertificateRequest{Name: w.freshCertificate(c, "organiser-own"), RequestId: fmt.Sprintf("renew-%d", w.uniq())}
		}),
		r(act+"StartParticipation", "", orgAOnly, func(w *world, c caller) proto.Message {
			return &activityv1.StartParticipationRequest{Name: w.freshCertificate(c, "organiser-own"), RequestId: fmt.Sprintf("start-%d", w.uniq())}
		}),
		r(act+"EndParticipation", "", orgAOnly, func(w *world, c caller) proto.Message {
			return &activityv1.EndParticipationRequest{Name: w.freshCertificate(c, "organiser-own"), Outcome: activityv1.Participation_PARTICIPATION_DROPPED_OUT,
				EndDate: w.date(0), RequestId: fmt.Sprintf("endp-%d", w.uniq())}
		}),
		r(act+"GetFolkbildningReport", "", lanReader, func(w *world, c caller) proto.Message {
			return &activityv1.GetFolkbildningReportRequest{Lan: "lan/01", StartDate: w.date(-60), EndDate: w.date(0)}
		}),
		r(act+"GetReportSchedule", "", lanReader, func(w *world, c caller) proto.Message {
			return &activityv1.GetReportScheduleRequest{Name: "lan/01/folkbildningReportSchedule"}
		}),
		r(act+"UpdateReportSchedule", "", "UA PD OK PD OK PD PD PD PD PD", func(w *world, c caller) proto.Message {
			return &activityv1.UpdateReportScheduleRequest{Schedule: &activityv1.ReportSchedule{Name: "lan/01/folkbildningReportSchedule",
				Frequency: activityv1.ReportFrequency_REPORT_FREQUENCY_MONTHLY}, UpdateMask: mask("frequency")}
		}),
		r(act+"GetCoverage", "", lanReader, func(w *world, c caller) proto.Message {
			return &activityv1.GetCoverageRequest{Name: "lan/01/coverage"}
		}),
		r(act+"ExportCoverage", "", lanReader, func(w *world, c caller) proto.Message {
			return &activityv1.ExportCoverageRequest{Name: "lan/01/coverage"}
		}),
		r(act+"SearchCatalogue", "", public, func(w *world, c caller) proto.Message {
			return &activityv1.SearchCatalogueRequest{KommunCode: "0180", WithinKm: 30}
		}),

		// ---- StatisticsService ----
		r(sta+"ImportSnapshot", "", mvOnly, func(w *world, c caller) proto.Message {
			return &statisticsv1.ImportSnapshotRequest{Name: w.snapshotName(), Cells: cells()}
		}),
		r(sta+"GetSnapshot", "", signedIn, func(w *world, c caller) proto.Message {
			return &statisticsv1.GetSnapshotRequest{Name: w.snapshot}
		}),
		r(sta+"QuerySnapshot", "", signedIn, func(w *world, c caller) proto.Message {
			return &statisticsv1.QuerySnapshotRequest{Snapshot: w.snapshot, LanCodes: []string{"01"},
				GroupBy: []statisticsv1.Dimension{statisticsv1.Dimension_DIMENSION_KOMMUN}}
		}),
		{method: sta + "ImportPersons", want: mvOnly, stream: func(w *world, c caller) []proto.Message {
			var csv bytes.Buffer
			date := strings.TrimPrefix(w.snapshotName(), "snapshots/")
			if err := generate.Write(&csv, generate.Options{Seed: 7, Rows: 300, ReferenceDate: date}); err != nil {
				w.t.Fatal(err)
			}
			return []proto.Message{
				&statisticsv1.ImportPersonsRequest{Kind: &statisticsv1.ImportPersonsRequest_Header{Header: &statisticsv1.ImportHeader{Snapshot: "snapshots/" + date}}},
				&statisticsv1.ImportPersonsRequest{Kind: &statisticsv1.ImportPersonsRequest_CsvData{CsvData: csv.Bytes()}},
			}
		}},
		{method: sta + "ImportCells", want: mvOnly, stream: func(w *world, c caller) []proto.Message {
			return []proto.Message{
				&statisticsv1.ImportCellsRequest{Kind: &statisticsv1.ImportCellsRequest_Header{Header: &statisticsv1.ImportHeader{Snapshot: w.snapshotName()}}},
				&statisticsv1.ImportCellsRequest{Kind: &statisticsv1.ImportCellsRequest_Cells{Cells: &statisticsv1.CellBatch{Cells: cells()}}},
			}
		}},
		r(sta+"ListSnapshots", "", signedIn, func(w *world, c caller) proto.Message {
			return &statisticsv1.ListSnapshotsRequest{}
		}),
		r(sta+"QueryTimeSeries", "", signedIn, func(w *world, c caller) proto.Message {
			return &statisticsv1.QueryTimeSeriesRequest{FromDate: "2020-01-01", ToDate: w.date(0), LanCodes: []string{"01"}}
		}),
		r(sta+"CompareSnapshots", "", signedIn, func(w *world, c caller) proto.Message {
			return &statisticsv1.CompareSnapshotsRequest{FromSnapshot: w.snapshot, ToSnapshot: w.snapshot, LanCodes: []string{"01"}}
		}),
		r(sta+"CreatePlannedChange", "", mvOnly, func(w *world, c caller) proto.Message {
			return &statisticsv1.CreatePlannedChangeRequest{PlannedChange: &statisticsv1.PlannedChange{KommunCode: "0180",
				HousingType: statisticsv1.HousingType_HOUSING_TYPE_EBO, EffectiveDate: w.date(30), AdultsDelta: 10, Description: "Matris"}}
		}),
		r(sta+"ListPlannedChanges", "", signedIn, func(w *world, c caller) proto.Message {
			return &statisticsv1.ListPlannedChangesRequest{LanCodes: []string{"01"}}
		}),
		r(sta+"DeletePlannedChange", "", mvOnly, func(w *world, c caller) proto.Message {
			return &statisticsv1.DeletePlannedChangeRequest{Name: w.fresh(c, "migrationsverket", w.planned, w.newPlannedChange)}
		}),
		r(sta+"GetProjection", "", signedIn, func(w *world, c caller) proto.Message {
			return &statisticsv1.GetProjectionRequest{ProjectionDate: w.date(60), LanCodes: []string{"01"}}
		}),

		// ---- TravelService ----
		r(tra+"CreateRoute", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.CreateRouteRequest{Route: &travelv1.Route{FromKommunCode: "0115", ToKommunCode: "0180",
				ValidFrom: w.date(0), ValidTo: w.date(100), Reason: "Matris"}, RequestId: fmt.Sprintf("route-%d", w.uniq())}
		}),
		r(tra+"GetRoute", "", signedIn, func(w *world, c caller) proto.Message {
			return &travelv1.GetRouteRequest{Name: w.route}
		}),
		r(tra+"ListRoutes", "", signedIn, func(w *world, c caller) proto.Message {
			return &travelv1.ListRoutesRequest{}
		}),
		r(tra+"RevokeRoute", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.RevokeRouteRequest{Name: w.fresh(c, "migrationsverket", w.route, w.newRoute), RevokedFrom: w.date(10), Reason: "Matris", RequestId: fmt.Sprintf("revoke-%d", w.uniq())}
		}),
		r(tra+"CreateConsultation", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.CreateConsultationRequest{Consultation: &travelv1.Consultation{Description: "Matris", Deadline: w.date(10),
				Proposals: []*travelv1.Route{{FromKommunCode: "0381", ToKommunCode: "0180", ValidFrom: w.date(20), ValidTo: w.date(200), Reason: "Matris"}}},
				RequestId: fmt.Sprintf("cons-%d", w.uniq())}
		}),
		r(tra+"GetConsultation", "", signedIn, func(w *world, c caller) proto.Message {
			return &travelv1.GetConsultationRequest{Name: w.consultation}
		}),
		r(tra+"ListConsultations", "", signedIn, func(w *world, c caller) proto.Message {
			return &travelv1.ListConsultationsRequest{}
		}),
		// Only the parties addressed: the county boards of the län concerned
		// (01, 03) and registered organisers active in the kommuner
		// concerned (orgA in 0180). Not orgB (län 12 only), not an
		// unregistered organiser (issue 11.4).
		r(tra+"CreateConsultationResponse", "", "UA PD OK PD PD OK PD PD PD PD", func(w *world, c caller) proto.Message {
			return &travelv1.CreateConsultationResponseRequest{Parent: w.consultation, Response: &travelv1.ConsultationResponse{
				Stance: travelv1.Stance_STANCE_SUPPORT, Comment: "Matris"}, RequestId: fmt.Sprintf("resp-%d", w.uniq())}
		}),
		r(tra+"DecideConsultation", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.DecideConsultationRequest{Name: w.fresh(c, "migrationsverket", w.consultation, w.newConsultation), Reason: "Inga resor ersätts.", RequestId: fmt.Sprintf("decide-%d", w.uniq())}
		}),
		// A claim for person A: themself or Migrationsverket on their behalf.
		r(tra+"CreateClaim", "", personA, func(w *world, c caller) proto.Message {
			return &travelv1.CreateClaimRequest{RequestId: fmt.Sprintf("claim-%d", w.uniq()), Claim: &travelv1.Claim{
				DossierNumber: dossierA, TripDate: w.date(0), FromKommunCode: "0180", ToKommunCode: "0180", Activity: w.activity,
				Certificate: w.certificate, DistanceKm: 5, CostOre: 2000 + w.uniq(), TicketType: travelv1.TicketType_TICKET_TYPE_SINGLE}}
		}),
		// The county board of the claim's län sees it without the dossier
		// number (issue 12.5); another person is refused (403), as the travel
		// tests have always asserted.
		r(tra+"GetClaim", "", "UA OK OK PD PD PD PD PD OK PD", func(w *world, c caller) proto.Message {
			return &travelv1.GetClaimRequest{Name: w.claim}
		}).checked(func(w *world, c caller, resp proto.Message) error {
			if role(c) == auth.RoleCountyBoard && resp.(*travelv1.Claim).GetDossierNumber() != "" {
				return errorf("a county board sees the dossier number")
			}
			return nil
		}),
		r(tra+"ListClaims", "", "UA OK OK OK PD PD PD PD OK OK", func(w *world, c caller) proto.Message {
			return &travelv1.ListClaimsRequest{}
		}).checked(func(w *world, c caller, resp proto.Message) error {
			for _, cl := range resp.(*travelv1.ListClaimsResponse).GetClaims() {
				switch {
				case role(c) == auth.RoleCountyBoard && cl.GetDossierNumber() != "":
					return errorf("a county board sees the dossier number of %s", cl.GetName())
				case role(c) == auth.RoleCountyBoard && cl.GetLanCode() != c.pr.Lan:
					return errorf("county board %s sees claim %s of län %s", c.pr.Lan, cl.GetName(), cl.GetLanCode())
				case role(c) == auth.RoleAsylumSeeker && cl.GetDossierNumber() != c.pr.Dossier:
					return errorf("an asylum seeker sees another person's claim %s", cl.GetName())
				}
			}
			return nil
		}),
		r(tra+"ApproveClaim", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.ApproveClaimRequest{Name: w.reviewClaim(c), Reason: "Granskad", RequestId: fmt.Sprintf("appr-%d", w.uniq())}
		}),
		r(tra+"RejectClaim", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.RejectClaimRequest{Name: w.reviewClaim(c), Reason: "Intyg saknas", RequestId: fmt.Sprintf("rej-%d", w.uniq())}
		}),
		r(tra+"CreatePaymentRun", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.CreatePaymentRunRequest{RequestId: fmt.Sprintf("run-%d", w.uniq())}
		}),
		r(tra+"GetPaymentRun", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.GetPaymentRunRequest{Name: w.paymentRun()}
		}),
		r(tra+"ListPaymentRuns", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.ListPaymentRunsRequest{}
		}),
		r(tra+"GetPaymentFile", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.GetPaymentFileRequest{Name: w.paymentRun() + "/file"}
		}),
		r(tra+"DownloadPaymentFile", "", mvOnly, func(w *world, c caller) proto.Message {
			return &travelv1.DownloadPaymentFileRequest{Name: w.paymentRun() + "/file"}
		}),
		r(tra+"GetLeadTimeReport", "", mvBoard01, func(w *world, c caller) proto.Message {
			return &travelv1.GetLeadTimeReportRequest{LanCode: "01"}
		}),
		r(tra+"GetUsageReport", "", mvBoard01, func(w *world, c caller) proto.Message {
			return &travelv1.GetUsageReportRequest{LanCode: "01"}
		}),

		// ---- NotificationService: inboxes (the county board of 01's and person A's) ----
		r(not+"ListMessages", "board inbox", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.ListMessagesRequest{Parent: "recipients/lansstyrelse-01"}
		}),
		r(not+"ListMessages", "person inbox", "UA PD PD PD PD PD PD PD OK PD", func(w *world, c caller) proto.Message {
			return &notificationv1.ListMessagesRequest{Parent: w.seekerInbox}
		}),
		r(not+"GetMessage", "board inbox", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.GetMessageRequest{Name: w.boardMsg}
		}),
		r(not+"GetMessage", "person inbox", "UA PD PD PD PD PD PD PD OK PD", func(w *world, c caller) proto.Message {
			return &notificationv1.GetMessageRequest{Name: w.seekerMsg}
		}),
		r(not+"MarkMessageRead", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.MarkMessageReadRequest{Name: w.boardMsg}
		}),
		r(not+"CountUnreadMessages", "person inbox", "UA PD PD PD PD PD PD PD OK PD", func(w *world, c caller) proto.Message {
			return &notificationv1.CountUnreadMessagesRequest{Parent: w.seekerInbox}
		}),
		r(not+"ListDeadLetters", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.ListDeadLettersRequest{Parent: "recipients/lansstyrelse-01"}
		}),
		// No delivery was dead-lettered: the inbox's owner passes the check
		// and learns it does not exist; everyone else is refused first.
		r(not+"ReplayDelivery", "", "UA PD NF PD PD PD PD PD PD PD", func(w *world, c caller) proto.Message {
			return &notificationv1.ReplayDeliveryRequest{Name: w.boardMsg + "/deliveries/00000000-0000-0000-0000-000000000000"}
		}),
		r(not+"GetSubscription", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.GetSubscriptionRequest{Name: "recipients/lansstyrelse-01/subscriptions/activity.registered"}
		}),
		r(not+"ListSubscriptions", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.ListSubscriptionsRequest{Parent: "recipients/lansstyrelse-01"}
		}),
		r(not+"UpdateSubscription", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.UpdateSubscriptionRequest{Subscription: &notificationv1.Subscription{
				Name:     "recipients/lansstyrelse-01/subscriptions/activity.registered",
				Channels: []notificationv1.Channel{notificationv1.Channel_CHANNEL_INBOX}, Language: notificationv1.Language_LANGUAGE_SV},
				UpdateMask: mask("channels", "language")}
		}),
		r(not+"CreateWebhook", "board inbox", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.CreateWebhookRequest{Parent: "recipients/lansstyrelse-01", Webhook: &notificationv1.Webhook{Url: w.e.hookURL}}
		}),
		// Webhooks are not for asylum seekers, not even on their own inbox
		// (issue 11.1; proto/access declares the roles).
		r(not+"CreateWebhook", "person inbox", "UA PD PD PD PD PD PD PD PD PD", func(w *world, c caller) proto.Message {
			return &notificationv1.CreateWebhookRequest{Parent: w.seekerInbox, Webhook: &notificationv1.Webhook{Url: w.e.hookURL}}
		}),
		r(not+"ListWebhooks", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.ListWebhooksRequest{Parent: "recipients/lansstyrelse-01"}
		}).checked(func(w *world, c caller, resp proto.Message) error {
			for _, h := range resp.(*notificationv1.ListWebhooksResponse).GetWebhooks() {
				if h.GetSecret() != "" {
					return errorf("the list shows the secret of %s", h.GetName())
				}
			}
			return nil
		}),
		r(not+"DeleteWebhook", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.DeleteWebhookRequest{Name: w.fresh(c, "lansstyrelse-own", w.webhook, w.newWebhook)}
		}),

		// ---- NotificationService: the regional forum of län 01 ----
		r(not+"CreateForumMember", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.CreateForumMemberRequest{Parent: "lan/01", Member: &notificationv1.ForumMember{
				Recipient: "organiser-" + luhnOrg(w.uniq()), DisplayName: "Ny medlem"}}
		}),
		r(not+"ListForumMembers", "", signedIn, func(w *world, c caller) proto.Message {
			return &notificationv1.ListForumMembersRequest{Parent: "lan/01"}
		}),
		r(not+"DeleteForumMember", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.DeleteForumMemberRequest{Name: w.fresh(c, "lansstyrelse-own", w.member, w.newMember)}
		}),
		r(not+"CreateMeeting", "", board01, func(w *world, c caller) proto.Message {
			start := time.Now().AddDate(0, 0, 20).Truncate(time.Hour).UTC()
			return &notificationv1.CreateMeetingRequest{Parent: "lan/01", Meeting: &notificationv1.Meeting{
				Title: "Matris", Level: notificationv1.CooperationLevel_COOPERATION_LEVEL_INFORMATION,
				StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour)), Location: "Stockholm"}}
		}),
		r(not+"GetMeeting", "", forum, func(w *world, c caller) proto.Message {
			return &notificationv1.GetMeetingRequest{Name: w.meeting}
		}),
		r(not+"ListMeetings", "", forum, func(w *world, c caller) proto.Message {
			return &notificationv1.ListMeetingsRequest{Parent: "lan/01"}
		}),
		r(not+"UpdateMeeting", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.UpdateMeetingRequest{Meeting: &notificationv1.Meeting{Name: w.meeting, Location: "Hantverkargatan 29, Stockholm"},
				UpdateMask: mask("location")}
		}),
		r(not+"ProposeAgendaItem", "", forum, func(w *world, c caller) proto.Message {
			return &notificationv1.ProposeAgendaItemRequest{Name: w.meeting, Item: &notificationv1.AgendaItem{Title: fmt.Sprintf("Förslag %d", w.uniq())}}
		}),
		r(not+"RecordFeedback", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.RecordFeedbackRequest{Name: w.meeting, Feedback: &notificationv1.Feedback{
				Respondent: "organiser-" + orgA, Response: "Fler platser behövs i Norrtälje.", Outcome: "Tas upp med Migrationsverket."}}
		}),
		r(not+"GetMeetingCalendar", "", public, func(w *world, c caller) proto.Message {
			return &notificationv1.GetMeetingCalendarRequest{Parent: "lan/01"}
		}),
		r(not+"CreateContact", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.CreateContactRequest{Parent: "lan/01", Contact: &notificationv1.Contact{
				Actor: "lansstyrelse-01", ActorDisplayName: "Länsstyrelsen i Stockholms län", Function: fmt.Sprintf("Handläggare %d", w.uniq()),
				Email: "handlaggare@lansstyrelsen.example"}}
		}),
		// Public: anonymous callers see only the contacts marked public.
		r(not+"ListContacts", "", public, func(w *world, c caller) proto.Message {
			return &notificationv1.ListContactsRequest{Parent: "lan/01"}
		}).checked(func(w *world, c caller, resp proto.Message) error {
			for _, ct := range resp.(*notificationv1.ListContactsResponse).GetContacts() {
				if c.pr == nil && !ct.GetPublic() {
					return errorf("an anonymous caller sees the internal contact %s", ct.GetName())
				}
			}
			return nil
		}),
		r(not+"DeleteContact", "", board01, func(w *world, c caller) proto.Message {
			return &notificationv1.DeleteContactRequest{Name: w.fresh(c, "lansstyrelse-own", w.contact, w.newContact)}
		}),
		r(not+"GetActivityFeed", "", public, func(w *world, c caller) proto.Message {
			return &notificationv1.GetActivityFeedRequest{Kommun: "kommuner/0180"}
		}),

		// ---- Authorization before validation (issue 11.4): a caller who
		// may not call the method gets PERMISSION_DENIED (or
		// UNAUTHENTICATED) for an invalid body too, never a 400 that
		// reveals the shape. The allowed callers get INVALID_ARGUMENT,
		// which the bad-input corpus covers, so their cells expect that. ----
		{method: sta + "ImportSnapshot", variant: "invalid body", want: "UA IA PD PD PD PD PD PD PD PD", req: func(w *world, c caller) proto.Message {
			return &statisticsv1.ImportSnapshotRequest{Name: "snapshots/2026-02-30", Cells: []*statisticsv1.Cell{{KommunCode: "99", Count: -1}}}
		}},
		{method: tra + "CreateRoute", variant: "invalid body", want: "UA IA PD PD PD PD PD PD PD PD", req: func(w *world, c caller) proto.Message {
			return &travelv1.CreateRouteRequest{Route: &travelv1.Route{FromKommunCode: "9999", ValidFrom: "2026-02-30"}}
		}},
		{method: act + "CreateAgreement", variant: "invalid body", want: "UA PD IA PD PD PD PD PD PD PD", req: func(w *world, c caller) proto.Message {
			return &activityv1.CreateAgreementRequest{Parent: "lan/01", Agreement: &activityv1.Agreement{Organiser: "x", StartDate: "2026-02-30"}}
		}},
		{method: act + "CreateActivity", variant: "invalid body", want: "UA PD PD PD IA IA PD PD PD PD", req: func(w *world, c caller) proto.Message {
			return &activityv1.CreateActivityRequest{Parent: "organisers/" + orgA, Activity: &activityv1.Activity{Title: strings.Repeat("x", 100<<10), KommunCode: "9999"}}
		}},
		{method: act + "UpdateOrganiser", variant: "invalid body", want: "UA PD IA PD IA IA PD PD PD PD", req: func(w *world, c caller) proto.Message {
			return &activityv1.UpdateOrganiserRequest{Organiser: &activityv1.Organiser{Name: "organisers/" + orgA, DisplayName: strings.Repeat("x", 100<<10)},
				UpdateMask: mask("display_name")}
		}},
		{method: tra + "CreateConsultationResponse", variant: "invalid body", want: "UA PD IA PD PD IA PD PD PD PD", req: func(w *world, c caller) proto.Message {
			return &travelv1.CreateConsultationResponseRequest{Parent: w.consultation, Response: &travelv1.ConsultationResponse{Comment: strings.Repeat("x", 100<<10)}}
		}},
		{method: not + "CreateWebhook", variant: "invalid body", want: "UA PD IA PD PD PD PD PD PD PD", req: func(w *world, c caller) proto.Message {
			return &notificationv1.CreateWebhookRequest{Parent: "recipients/lansstyrelse-01", Webhook: &notificationv1.Webhook{Url: "ftp://169.254.169.254/"}}
		}},
		{method: sta + "CreatePlannedChange", variant: "invalid body", want: "UA IA PD PD PD PD PD PD PD PD", req: func(w *world, c caller) proto.Message {
			return &statisticsv1.CreatePlannedChangeRequest{PlannedChange: &statisticsv1.PlannedChange{KommunCode: "9999", EffectiveDate: "2026-02-30"}}
		}},
		{method: tra + "CreateClaim", variant: "invalid body", want: "UA IA PD PD PD PD PD PD IA PD", req: func(w *world, c caller) proto.Message {
			return &travelv1.CreateClaimRequest{Claim: &travelv1.Claim{DossierNumber: dossierA, TripDate: "2026-02-30", DistanceKm: -1}}
		}},
		{method: not + "UpdateMeeting", variant: "invalid body", want: "UA PD IA PD PD PD PD PD PD PD", req: func(w *world, c caller) proto.Message {
			return &notificationv1.UpdateMeetingRequest{Meeting: &notificationv1.Meeting{Name: w.meeting, Minutes: strings.Repeat("x", 1<<20)}, UpdateMask: mask("minutes")}
		}},
	}
	for _, svc := range []struct{ prefix, trail string }{{act, "activity"}, {tra, "travel"}, {not, "notification"}} {
		rows = append(rows, auditRows(svc.prefix, "auditTrails/"+svc.trail)...)
	}
	return rows
}

// auditRows are the rows of a service's audit trail: Migrationsverket and the
// person search their entries; only Migrationsverket verifies the chain.
func auditRows(service, trail string) []row {
	return []row{
		r(service+"SearchAuditEntries", "", personA, func(w *world, c caller) proto.Message {
			return &auditv1.SearchAuditEntriesRequest{Parent: trail, DossierNumber: dossierA}
		}),
		r(service+"VerifyAuditTrail", "", mvOnly, func(w *world, c caller) proto.Message {
			return &auditv1.VerifyAuditTrailRequest{Name: trail}
		}),
	}
}

// fresh is a new resource (made by create) for the caller who may change or
// consume it (owner names that column); the others are pointed at the
// seeded one.
func (w *world) fresh(c caller, owner, seeded string, create func() string) string {
	if c.name == owner {
		return create()
	}
	return seeded
}

// freshCertificate is fresh for certificates: each new one for a person of
// its own.
func (w *world) freshCertificate(c caller, owner string) string {
	return w.fresh(c, owner, w.certificate, func() string { return w.newCertificate(fmt.Sprintf("45-%06d", w.uniq())) })
}

// reviewClaim is a claim waiting in the review queue (filed by
// Migrationsverket for a person without a certificate): a fresh one for
// Migrationsverket, the seeded one for the others.
func (w *world) reviewClaim(c caller) string {
	w.t.Helper()
	if c.name != "migrationsverket" {
		return w.claim
	}
	return created(w, "claim in review", principalMV, w.travel.CreateClaim, &travelv1.CreateClaimRequest{RequestId: fmt.Sprintf("review-%d", w.uniq()), Claim: &travelv1.Claim{
		DossierNumber: dossierB, TripDate: w.date(-1), FromKommunCode: "1280", ToKommunCode: "1280",
		Activity: w.activityB, Certificate: w.activityB + "/certificates/saknas", DistanceKm: 12, CostOre: 5000 + w.uniq(),
		TicketType: travelv1.TicketType_TICKET_TYPE_RETURN,
	}})
}

// snapshotName is a reference date no other import used.
func (w *world) snapshotName() string {
	return "snapshots/" + time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(w.uniq())).Format("2006-01-02")
}

// paymentRun is the run the seed started (made on first use).
func (w *world) paymentRun() string {
	w.t.Helper()
	if w.run != "" {
		return w.run
	}
	run, err := w.travel.CreatePaymentRun(w.ctx(), &travelv1.CreatePaymentRunRequest{RequestId: "seed-run"}, w.e.as(w.t, principalMV))
	w.must(err, "payment run")
	w.run = run.GetName()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := w.travel.GetPaymentRun(w.ctx(), &travelv1.GetPaymentRunRequest{Name: w.run}, w.e.as(w.t, principalMV))
		w.must(err, "payment run")
		if got.GetState() == travelv1.PaymentRunState_PAYMENT_RUN_STATE_SUCCEEDED {
			return w.run
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("seed: payment run %s still %s", w.run, got.GetState())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
