package domain

import (
	"testing"

	"github.com/tia-platform/tia/services/platform/refdata"
)

// fullGrid is every kommun × housing × sex × age band (10,440 cells), with
// counts derived from the position so that every sum is different; every
// seventh cell is zero, as real figures have empty combinations.
func fullGrid(t *testing.T) (Grid, []Cell) {
	t.Helper()
	var cells []Cell
	var n int64
	for _, k := range refdata.Kommuner() {
		for _, h := range HousingTypes {
			for _, s := range Sexes {
				for _, a := range AgeBands {
					n++
					count := n % 97
					if n%7 == 0 {
						count = 0
					}
					cells = append(cells, Cell{KommunCode: k.Code, LanCode: k.LanCode, Housing: h, Sex: s, AgeBand: a, Count: count})
				}
			}
		}
	}
	g := NewGrid()
	for _, c := range cells {
		if !g.Add(c) {
			t.Fatalf("cell %+v refused", c)
		}
	}
	return g, cells
}

// TestGridSum: the grouped sums the service answers from, against sums of
// the cells themselves.
func TestGridSum(t *testing.T) {
	g, cells := fullGrid(t)
	sum := func(keep func(Cell) bool) int64 {
		var n int64
		for _, c := range cells {
			if keep(c) {
				n += c.Count
			}
		}
		return n
	}
	all := sum(func(Cell) bool { return true })

	// The grand total is one row with no dimension set.
	if total := g.Sum(Query{}); len(total) != 1 || total[0] != (Row{Count: all}) {
		t.Fatalf("grand total = %+v, want %d", total, all)
	}

	// Län totals add up to the national total, and each län total is the
	// sum of its kommuner, whether the kommuner are picked by län filter or
	// by listing their codes.
	byLan := g.Sum(Query{GroupBy: []Dimension{DimLan}})
	if len(byLan) != len(refdata.Lans()) || Total(byLan) != all {
		t.Fatalf("%d län rows summing to %d; want %d summing to %d", len(byLan), Total(byLan), len(refdata.Lans()), all)
	}
	for _, l := range byLan {
		if l.KommunCode != "" || l.Housing != "" || l.Sex != "" || l.AgeBand != "" {
			t.Fatalf("ungrouped dimensions set: %+v", l)
		}
		kommuner := g.Sum(Query{LanCodes: []string{l.LanCode}, GroupBy: []Dimension{DimKommun}})
		if Total(kommuner) != l.Count {
			t.Errorf("län %s: kommuner sum to %d, län row says %d", l.LanCode, Total(kommuner), l.Count)
		}
		var codes []string
		for _, k := range refdata.KommunerIn(l.LanCode) {
			codes = append(codes, k.Code)
		}
		if got := g.Sum(Query{KommunCodes: codes}); got[0].Count != l.Count {
			t.Errorf("län %s: by kommun codes %d, want %d", l.LanCode, got[0].Count, l.Count)
		}
	}

	bySex := g.Sum(Query{LanCodes: []string{"01", "25"}, GroupBy: []Dimension{DimSex}})
	for _, r := range bySex {
		if want := sum(func(c Cell) bool { return (c.LanCode == "01" || c.LanCode == "25") && c.Sex == r.Sex }); r.Count != want {
			t.Errorf("sex %s in 01+25 = %d, want %d", r.Sex, r.Count, want)
		}
	}
	if len(bySex) != 2 || bySex[0].Sex != SexKvinna || bySex[1].Sex != SexMan {
		t.Fatalf("rows not one per sex in order: %+v", bySex)
	}

	// Both filters together keep cells matching both: a kommun outside the
	// län gives nothing.
	both := g.Sum(Query{LanCodes: []string{"01"}, KommunCodes: []string{"0180", "2584"}, GroupBy: []Dimension{DimKommun}})
	if len(both) != 1 || both[0].KommunCode != "0180" || both[0].Count != sum(func(c Cell) bool { return c.KommunCode == "0180" }) {
		t.Fatalf("län 01 and kommuner 0180, 2584 = %+v", both)
	}

	// Groups without people are left out; every full combination row
	// present has people and they add up.
	full := g.Sum(Query{GroupBy: []Dimension{DimLan, DimKommun, DimHousing, DimSex, DimAgeBand}})
	zero := 0
	for _, c := range cells {
		if c.Count == 0 {
			zero++
		}
	}
	if len(full) != len(cells)-zero || Total(full) != all {
		t.Fatalf("%d full rows summing to %d; want %d summing to %d", len(full), Total(full), len(cells)-zero, all)
	}
	byAge := g.Sum(Query{GroupBy: []Dimension{DimHousing, DimAgeBand}})
	if len(byAge) != 18 || byAge[0].Housing != HousingABE || byAge[0].AgeBand != Age18to24 || byAge[17].AgeBand != Age65Plus {
		t.Fatalf("housing × age rows = %+v", byAge)
	}
	for _, r := range byAge {
		if want := sum(func(c Cell) bool { return c.Housing == r.Housing && c.AgeBand == r.AgeBand }); r.Count != want {
			t.Errorf("%s %s = %d, want %d", r.Housing, r.AgeBand, r.Count, want)
		}
	}
}
