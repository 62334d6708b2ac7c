package embedded

import (
	"context"
	"fmt"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/auth"
)

// seedActivity registers a few activities of two organisers.
func seedActivity(ctx context.Context, d demo) error {
	activities := activityv1.NewActivityServiceClient(d.p.Channel)
	for _, a := range []struct {
		org    auth.Principal
		title  string
		kommun string
		focus  []activityv1.Focus
		cap    int32
		from   int
		to     int
	}{
		{DemoStudyAssociation, "Svenska från dag ett", "0180", []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH}, 25, -30, 60},
		{DemoStudyAssociation, "Samhällsorientering på arabiska och dari", "0380", []activityv1.Focus{activityv1.Focus_FOCUS_SOCIETY}, 18, -10, 80},
		{DemoStudyAssociation, "Vägen till arbete", "1280", []activityv1.Focus{activityv1.Focus_FOCUS_LABOUR_MARKET, activityv1.Focus_FOCUS_SWEDISH}, 15, 14, 120},
		{DemoFolkHighSchool, "Vardagssvenska", "2580", []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH}, 20, -60, 30},
		{DemoFolkHighSchool, "Hälsa och friskvård", "1480", []activityv1.Focus{activityv1.Focus_FOCUS_HEALTH}, 30, 7, 97},
	} {
		opt, err := d.as(a.org)
		if err != nil {
			return err
		}
		_, err = activities.CreateActivity(ctx, &activityv1.CreateActivityRequest{
			Parent: "organisers/" + a.org.Org,
			Activity: &activityv1.Activity{
				Title: a.title, KommunCode: a.kommun, Focus: a.focus, Capacity: a.cap,
				StartDate: d.date(a.from), EndDate: d.date(a.to),
			},
		}, opt)
		if err != nil {
			return fmt.Errorf("seed activity %q: %w", a.title, err)
		}
	}

	return nil
}
