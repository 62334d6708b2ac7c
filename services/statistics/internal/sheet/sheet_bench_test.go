package sheet

import (
	"testing"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// BenchmarkRenderKommunAgeBand renders the largest table a county board's
// spreadsheet asks for nationally: every kommun by age band (1,740 rows)
// with the subtotals per kommun, per age band and per län.
func BenchmarkRenderKommunAgeBand(b *testing.B) {
	resp := &statisticsv1.QuerySnapshotResponse{Total: 180000, Perturbed: true}
	for _, k := range refdata.Kommuner() {
		for a := statisticsv1.AgeBand_AGE_BAND_18_24; a <= statisticsv1.AgeBand_AGE_BAND_65_PLUS; a++ {
			resp.Rows = append(resp.Rows, &statisticsv1.QueryRow{KommunCode: k.Code, AgeBand: a, Count: 17})
		}
		resp.Subtotals = append(resp.Subtotals, &statisticsv1.QueryRow{KommunCode: k.Code, Count: 102})
	}
	for _, l := range refdata.Lans() {
		resp.Subtotals = append(resp.Subtotals, &statisticsv1.QueryRow{LanCode: l.Code, Count: 8000})
	}
	var n int
	for b.Loop() {
		out, err := Render(resp)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/doc")
}
