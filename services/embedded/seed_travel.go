package embedded

import (
	"context"
	"fmt"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
)

// seedTravel records two route decisions.
func seedTravel(ctx context.Context, d demo) error {
	mv, err := d.as(DemoMigrationsverket)
	if err != nil {
		return err
	}
	travel := travelv1.NewTravelServiceClient(d.p.Channel)
	for _, r := range [][2]string{{"2582", "2580"}, {"0184", "0180"}} {
		if _, err := travel.CreateRoute(ctx, &travelv1.CreateRouteRequest{Route: &travelv1.Route{
			FromKommunCode: r[0], ToKommunCode: r[1], ValidFrom: d.date(-30), ValidTo: d.date(335),
			Reason: "Utbudet i hemkommunen räcker inte; samråd med länsstyrelsen genomfört.",
		}}, mv); err != nil {
			return fmt.Errorf("seed route: %w", err)
		}
	}
	return nil
}
