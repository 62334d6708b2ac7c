package statistics_test

import (
	"testing"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/statistics/generate"
)

// BenchmarkTimeSeries24 is the service side of the 24-month time series at
// the 2016 scale, on PostgreSQL (the setup imports 24 extracts).
func BenchmarkTimeSeries24(b *testing.B) {
	e := newEnvB(b, dbtest.NewPostgres(b))
	dates := generate.MonthEnds("2026-10-31", 24)
	for i, d := range dates {
		text := genCSVB(b, uint64(i), generate.RowsForAdults(180000), d)
		s := &personStream{ctx: as(migrationsverket), msgs: append([]*statisticsv1.ImportPersonsRequest{header("snapshots/" + d)}, csvMsgs(text, 256<<10)...)}
		if err := e.svc.ImportPersons(s); err != nil {
			b.Fatal(err)
		}
	}
	req := &statisticsv1.QueryTimeSeriesRequest{GroupBy: []statisticsv1.Dimension{dimLan}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.svc.QueryTimeSeries(as(countyBoard), req); err != nil {
			b.Fatal(err)
		}
	}
}
