package domain

import (
	"slices"
)

// Table is the answer to a query as published: the rows of the grouping,
// the subtotals that go with them, and the total.
type Table struct {
	Rows      []Row
	Subtotals []Row
	Total     int64
}

// margins are the subtotals a reader gets with a grouping: one per value of
// each grouped dimension when grouping by more than one, and one per län
// when grouping by kommun.
func margins(groupBy []Dimension) [][]Dimension {
	var out [][]Dimension
	has := func(d Dimension) bool { return slices.Contains(groupBy, d) }
	if len(groupBy) > 1 {
		for _, d := range groupBy {
			m := []Dimension{d}
			if d == DimKommun && has(DimLan) {
				m = []Dimension{DimLan, DimKommun}
			}
			if len(m) < len(groupBy) {
				out = append(out, m)
			}
		}
	}
	if has(DimKommun) && !has(DimLan) {
		out = append(out, []Dimension{DimLan})
	}
	return out
}

// Tabulate adds to exact rows (from Grid.Sum with groupBy) the subtotals
// (see margins) and the total, which add up exactly: Migrationsverket's
// view. Published.Table is everyone else's.
func Tabulate(rows []Row, groupBy []Dimension) Table {
	t := Table{Rows: slices.Clone(rows), Total: Total(rows)}
	if len(groupBy) == 0 {
		return t // one grand-total row, which is the total
	}
	for _, m := range margins(groupBy) {
		groups := map[Row]int64{}
		var order []Row
		for _, r := range rows {
			k := project(r, m)
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] += r.Count
		}
		slices.SortFunc(order, CompareRows)
		for _, k := range order {
			k.Count = groups[k]
			t.Subtotals = append(t.Subtotals, k)
		}
	}
	return t
}

// project keeps only the dimensions in dims.
func project(r Row, dims []Dimension) Row {
	var k Row
	for _, d := range dims {
		switch d {
		case DimLan:
			k.LanCode = r.LanCode
			if k.LanCode == "" && r.KommunCode != "" {
				if km, ok := kommunIndex[r.KommunCode]; ok {
					k.LanCode = kommunList[km].LanCode
				}
			}
		case DimKommun:
			k.KommunCode = r.KommunCode
		case DimHousing:
			k.Housing = r.Housing
		case DimSex:
			k.Sex = r.Sex
		case DimAgeBand:
			k.AgeBand = r.AgeBand
		}
	}
	return k
}

// Figures are the totals comparisons and projections start from: per
// kommun, per län and for the whole selection. Exact ones add up; published
// ones are each their own cell's figure.
type Figures struct {
	Kommun map[string]int64 // kommuner with a figure other than 0
	Lan    map[string]int64 // län with a figure, or a kommun with one
	All    int64
}

// ExactFigures sums kommun totals (of a selection of whole län) into län
// and overall totals.
func ExactFigures(totals []KommunTotal) Figures {
	f := Figures{Kommun: map[string]int64{}, Lan: map[string]int64{}}
	for _, t := range totals {
		f.Kommun[t.KommunCode] += t.Adults
		f.Lan[t.LanCode] += t.Adults
		f.All += t.Adults
	}
	return f
}

// Figures are the published totals of the kommuner and län in lans (all
// when empty) and of them together.
func (p Published) Figures(lans []string) Figures {
	set := placesOf(Query{LanCodes: lans})
	f := Figures{Kommun: map[string]int64{}, Lan: map[string]int64{}, All: p.sum(set.units(), allHousing, allSex, allAge)}
	for l, ks := range lanKommuner {
		if !set[ks[0]] {
			continue
		}
		code := lanList[l].Code
		if n := p.cell(lanUnit(l), allHousing, allSex, allAge); n != 0 {
			f.Lan[code] = n
		}
		for _, k := range ks {
			if n := p.cell(k, allHousing, allSex, allAge); n != 0 {
				f.Kommun[kommunList[k].Code] = n
				f.Lan[code] += 0
			}
		}
	}
	return f
}

// LanOf returns the län of a known kommun code.
func LanOf(kommun string) string {
	if k, ok := kommunIndex[kommun]; ok {
		return kommunList[k].LanCode
	}
	return ""
}
