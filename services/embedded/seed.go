package embedded

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
)

// Demo actors. The organisation numbers are fictional but pass the Luhn check.
var (
	DemoStudyAssociation = auth.Principal{Subject: "demo-studieforbund", Role: auth.RoleOrganiser, Org: "8020038884"}
	DemoFolkHighSchool   = auth.Principal{Subject: "demo-folkhogskola", Role: auth.RoleOrganiser, Org: "8176055559"}
	DemoCountyBoard      = auth.Principal{Subject: "demo-lansstyrelsen-stockholm", Role: auth.RoleCountyBoard, Lan: "01"}
	DemoOtherCountyBoard = auth.Principal{Subject: "demo-lansstyrelsen-skane", Role: auth.RoleCountyBoard, Lan: "12"}
	DemoMigrationsverket = auth.Principal{Subject: "demo-migrationsverket", Role: auth.RoleMigrationsverket}
	DemoFolkbildning     = auth.Principal{Subject: "demo-folkbildningsradet", Role: auth.RoleFolkbildningsradet}
	DemoAsylumSeeker     = auth.Principal{Subject: "demo-asylsokande", Role: auth.RoleAsylumSeeker, Dossier: "12-345678"}
)

// Seed loads demo data through the API, as the actors themselves would, so
// it passes the same checks as any request.
func Seed(ctx context.Context, p *Platform) error {
	as := func(pr auth.Principal) (grpc.CallOption, error) {
		tok, err := p.Token(pr)
		if err != nil {
			return nil, err
		}
		return grpc.PerRPCCredentials(auth.BearerToken(tok)), nil
	}
	today := time.Now()
	date := func(days int) string { return today.AddDate(0, 0, days).Format("2006-01-02") }

	activities := activityv1.NewActivityServiceClient(p.Channel)
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
		opt, err := as(a.org)
		if err != nil {
			return err
		}
		_, err = activities.CreateActivity(ctx, &activityv1.CreateActivityRequest{
			Parent: "organisers/" + a.org.Org,
			Activity: &activityv1.Activity{
				Title: a.title, KommunCode: a.kommun, Focus: a.focus, Capacity: a.cap,
				StartDate: date(a.from), EndDate: date(a.to),
			},
		}, opt)
		if err != nil {
			return fmt.Errorf("seed activity %q: %w", a.title, err)
		}
	}

	mv, err := as(DemoMigrationsverket)
	if err != nil {
		return err
	}
	// A small snapshot of last month's end: a few kommuner, every cell.
	var cells []*statisticsv1.Cell
	for i, kommun := range []string{"0180", "0380", "1280", "1480", "2580", "2582", "0184", "1980"} {
		for h := statisticsv1.HousingType_HOUSING_TYPE_ABE; h <= statisticsv1.HousingType_HOUSING_TYPE_OVRIGT; h++ {
			for s := statisticsv1.Sex_SEX_KVINNA; s <= statisticsv1.Sex_SEX_MAN; s++ {
				for b := statisticsv1.AgeBand_AGE_BAND_18_24; b <= statisticsv1.AgeBand_AGE_BAND_65_PLUS; b++ {
					n := int64((i*7+int(h)*5+int(s)*3+int(b)*11)%23) + 1
					cells = append(cells, &statisticsv1.Cell{KommunCode: kommun, HousingType: h, Sex: s, AgeBand: b, Count: n})
				}
			}
		}
	}
	if _, err := statisticsv1.NewStatisticsServiceClient(p.Channel).ImportSnapshot(ctx, &statisticsv1.ImportSnapshotRequest{
		Name: DemoSnapshot(today), Cells: cells,
	}, mv); err != nil {
		return fmt.Errorf("seed snapshot: %w", err)
	}

	travel := travelv1.NewTravelServiceClient(p.Channel)
	for _, r := range [][2]string{{"2582", "2580"}, {"0184", "0180"}} {
		if _, err := travel.CreateRoute(ctx, &travelv1.CreateRouteRequest{Route: &travelv1.Route{
			FromKommunCode: r[0], ToKommunCode: r[1], ValidFrom: date(-30), ValidTo: date(335),
			Reason: "Utbudet i hemkommunen räcker inte; samråd med länsstyrelsen genomfört.",
		}}, mv); err != nil {
			return fmt.Errorf("seed route: %w", err)
		}
	}
	return nil
}

// DemoSnapshot names the demo snapshot: the end of the month before today.
func DemoSnapshot(today time.Time) string {
	monthEnd := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	return "snapshots/" + monthEnd.Format("2006-01-02")
}
