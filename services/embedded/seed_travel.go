package embedded

import (
	"context"
	"fmt"
	"strings"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
)

// seedTravel records two route decisions, opens a consultation on a third
// route with a response from the county board of Stockholm, and submits two
// claims: the demo asylum seeker's (approved: their certificate covers it)
// and one a case officer submitted on someone else's behalf in Norrbotten,
// which waits in the review queue (no certificate of theirs).
func seedTravel(ctx context.Context, d demo) error {
	mv := d.as(DemoMigrationsverket)
	travel := travelv1.NewTravelServiceClient(d.p.Channel)
	for _, r := range [][2]string{{"2582", "2580"}, {"0184", "0180"}} {
		if _, err := travel.CreateRoute(ctx, &travelv1.CreateRouteRequest{Route: &travelv1.Route{
			FromKommunCode: r[0], ToKommunCode: r[1], ValidFrom: d.date(-30), ValidTo: d.date(335),
			Reason: "Utbudet i hemkommunen räcker inte; samråd med länsstyrelsen genomfört.",
		}}, mv); err != nil {
			return fmt.Errorf("seed route: %w", err)
		}
	}
	c, err := travel.CreateConsultation(ctx, &travelv1.CreateConsultationRequest{Consultation: &travelv1.Consultation{
		Description: "Förslag: resor från Uppsala till Svenska från dag ett i Stockholm ersätts.",
		Deadline:    d.date(14),
		Proposals: []*travelv1.Route{{FromKommunCode: "0380", ToKommunCode: "0180", ValidFrom: d.date(21), ValidTo: d.date(300),
			Reason: "Inga kurser i svenska med plats i Uppsala under hösten."}},
	}}, mv)
	if err != nil {
		return fmt.Errorf("seed consultation: %w", err)
	}
	board := d.as(DemoCountyBoard)
	if _, err := travel.CreateConsultationResponse(ctx, &travelv1.CreateConsultationResponseRequest{
		Parent: c.GetName(), Response: &travelv1.ConsultationResponse{Stance: travelv1.Stance_STANCE_SUPPORT,
			Comment: "Länsstyrelsen tillstyrker; platserna i Stockholm räcker."},
	}, board); err != nil {
		return fmt.Errorf("seed consultation response: %w", err)
	}

	seeker := d.as(DemoAsylumSeeker)
	certs, err := activityv1.NewActivityServiceClient(d.p.Channel).ListCertificates(ctx,
		&activityv1.ListCertificatesRequest{Parent: "organisers/-/activities/-"}, seeker)
	if err != nil {
		return fmt.Errorf("seed claim: certificates: %w", err)
	}
	if len(certs.GetCertificates()) == 0 {
		return fmt.Errorf("seed claim: the demo asylum seeker has no certificate")
	}
	cert := certs.GetCertificates()[0].GetName()
	activity := cert[:strings.Index(cert, "/certificates/")]
	if _, err := travel.CreateClaim(ctx, &travelv1.CreateClaimRequest{RequestId: "demo-1", Claim: &travelv1.Claim{
		TripDate: d.date(0), FromKommunCode: "0180", ToKommunCode: "0180", Activity: activity, Certificate: cert,
		DistanceKm: 9, CostOre: 3900, TicketType: travelv1.TicketType_TICKET_TYPE_SINGLE,
	}}, seeker); err != nil {
		return fmt.Errorf("seed claim: %w", err)
	}
	if _, err := travel.CreateClaim(ctx, &travelv1.CreateClaimRequest{RequestId: "demo-2", Claim: &travelv1.Claim{
		DossierNumber: "23-456789", TripDate: d.date(-2), FromKommunCode: "2582", ToKommunCode: "2580",
		Activity: "organisers/8176055559/activities/demo", Certificate: "organisers/8176055559/activities/demo/certificates/saknas",
		DistanceKm: 33, CostOre: 6400, TicketType: travelv1.TicketType_TICKET_TYPE_RETURN,
	}}, mv); err != nil {
		return fmt.Errorf("seed claim: %w", err)
	}
	return nil
}
