package embedded

import (
	"context"
	"fmt"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
)

// seedStatistics imports a small snapshot of the target group.
func seedStatistics(ctx context.Context, d demo) error {
	mv, err := d.as(DemoMigrationsverket)
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
	if _, err := statisticsv1.NewStatisticsServiceClient(d.p.Channel).ImportSnapshot(ctx, &statisticsv1.ImportSnapshotRequest{
		Name: DemoSnapshot(d.today), Cells: cells,
	}, mv); err != nil {
		return fmt.Errorf("seed snapshot: %w", err)
	}

	return nil
}
