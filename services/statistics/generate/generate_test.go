package generate_test

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/tia-platform/tia/services/statistics/generate"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
)

func extract(t *testing.T, seed uint64, rows int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := generate.Write(&b, generate.Options{Seed: seed, Rows: rows, ReferenceDate: "2026-10-31"}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	tests := []struct {
		name       string
		a, b       uint64
		sameResult bool
	}{
		{"same seed, same file", 42, 42, true},
		{"other seed, other file", 42, 43, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := sha256.Sum256(extract(t, tt.a, 5000)), sha256.Sum256(extract(t, tt.b, 5000))
			if (a == b) != tt.sameResult {
				t.Fatalf("equal = %v, want %v", a == b, tt.sameResult)
			}
		})
	}
	if got := bytes.Count(extract(t, 1, 1234), []byte("\n")); got != 1235 {
		t.Fatalf("%d lines, want 1235", got)
	}
}

// TestPlausible imports today's level (about 20,000 adults) and checks the
// shape of the target group.
func TestPlausible(t *testing.T) {
	rows := generate.RowsForAdults(20_000)
	im := domain.NewPersonImport("2026-10-31", domain.Limits{})
	if err := im.ReadCSV(bytes.NewReader(extract(t, 7, rows))); err != nil {
		t.Fatal(err)
	}
	g, err := im.Finish()
	if err != nil {
		t.Fatalf("the generator wrote a file the import refuses: %v", err)
	}
	adults := g.Total()
	if adults < 19_000 || adults > 21_000 {
		t.Fatalf("%d adults, want about 20,000", adults)
	}
	if share := float64(im.Under18) / float64(rows); share < 0.22 || share > 0.28 {
		t.Fatalf("share of children %.2f, want about %.2f", share, generate.DefaultMinorShare)
	}
	totals := g.KommunTotals()
	if len(totals) < 280 {
		t.Fatalf("people in %d kommuner, want nearly all 290", len(totals))
	}
	slices.SortFunc(totals, func(a, b domain.KommunTotal) int { return int(b.Adults - a.Adults) })
	if totals[0].KommunCode != "0180" {
		t.Fatalf("largest kommun %s, want Stockholm", totals[0].KommunCode)
	}
	top := []string{}
	for _, k := range totals[:5] {
		top = append(top, k.KommunCode)
	}
	if !slices.Contains(top, "1480") || !slices.Contains(top, "1280") {
		t.Fatalf("top five %v, want Göteborg and Malmö among them", top)
	}
	var men, abe, abeElsewhere int64
	for _, c := range g.Cells() {
		if c.Sex == domain.SexMan {
			men += c.Count
		}
		if c.Housing == domain.HousingABE {
			abe += c.Count
			if !slices.Contains(generate.AgencyKommuner, c.KommunCode) {
				abeElsewhere += c.Count
			}
		}
	}
	if share := float64(men) / float64(adults); share < 0.58 || share > 0.66 {
		t.Fatalf("share of men %.2f, want about 0.62", share)
	}
	if abeElsewhere != 0 || abe < adults/10 {
		t.Fatalf("ABE %d (%d outside the agency's kommuner)", abe, abeElsewhere)
	}
	young := int64(0)
	for _, r := range g.Sum(domain.Query{GroupBy: []domain.Dimension{domain.DimAgeBand}}) {
		if r.AgeBand == domain.Age18to24 || r.AgeBand == domain.Age25to34 {
			young += r.Count
		}
	}
	if share := float64(young) / float64(adults); share < 0.5 || share > 0.7 {
		t.Fatalf("share under 35 %.2f, want about 0.6", share)
	}
}
