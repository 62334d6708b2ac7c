package domain

import (
	"slices"
)

// Table is the answer to a query as published: the rows of the grouping,
// the subtotals that make them add up to the total, and the total.
type Table struct {
	Rows            []Row
	Subtotals       []Row
	Total           int64
	TotalSuppressed bool
}

// Tabulate adds to rows (from Grid.Sum with groupBy) the subtotals a reader
// needs to see that kommun, län and national figures add up: one per value
// of each grouped dimension when grouping by more than one, and one per län
// when grouping by kommun. With protect, disclosure control withholds counts
// across rows, subtotals and total together.
func Tabulate(rows []Row, groupBy []Dimension, protect bool) Table {
	t := Table{Rows: slices.Clone(rows), Total: Total(rows)}
	if len(groupBy) == 0 {
		// One grand-total row, which is the total.
		if protect && len(t.Rows) == 1 && t.Total > 0 && t.Total < MinPublished {
			t.Rows[0].Count, t.Rows[0].Suppressed = 0, true
			t.Total, t.TotalSuppressed = 0, true
		}
		return t
	}
	var margins [][]Dimension
	has := func(d Dimension) bool { return slices.Contains(groupBy, d) }
	if len(groupBy) > 1 {
		for _, d := range groupBy {
			m := []Dimension{d}
			if d == DimKommun && has(DimLan) {
				m = []Dimension{DimLan, DimKommun}
			}
			if len(m) < len(groupBy) {
				margins = append(margins, m)
			}
		}
	}
	if has(DimKommun) && !has(DimLan) {
		margins = append(margins, []Dimension{DimLan})
	}
	// values: rows, then subtotals, then the total.
	values := make([]int64, 0, len(rows)+64)
	for _, r := range rows {
		values = append(values, r.Count)
	}
	var eqs []Equation
	for _, m := range margins {
		groups := map[Row][]int{}
		var order []Row
		for i, r := range rows {
			k := project(r, m)
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], i)
		}
		slices.SortFunc(order, CompareRows)
		for _, k := range order {
			parts := groups[k]
			var sum int64
			for _, i := range parts {
				sum += rows[i].Count
			}
			k.Count = sum
			eqs = append(eqs, Equation{Total: len(values), Parts: parts})
			values = append(values, sum)
			t.Subtotals = append(t.Subtotals, k)
		}
	}
	all := make([]int, len(rows))
	for i := range all {
		all[i] = i
	}
	totalAt := len(values)
	values = append(values, t.Total)
	eqs = append(eqs, Equation{Total: totalAt, Parts: all})
	if !protect {
		return t
	}
	sup := Suppress(values, eqs)
	for i := range t.Rows {
		if sup[i] {
			t.Rows[i].Count, t.Rows[i].Suppressed = 0, true
		}
	}
	for i := range t.Subtotals {
		if sup[len(rows)+i] {
			t.Subtotals[i].Count, t.Subtotals[i].Suppressed = 0, true
		}
	}
	if sup[totalAt] {
		t.Total, t.TotalSuppressed = 0, true
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

// Hierarchy is a figure per kommun with its län totals and the national
// total, as published in comparisons and projections. Totals[len-1] is the
// nation (LanCode "").
type Hierarchy struct {
	Kommuner []string // kommun codes, sorted
	Lans     []string // län codes, sorted
	Values   []int64  // kommuner, then län, then the nation
}

// NewHierarchy orders per-kommun values with their sums.
func NewHierarchy(byKommun map[string]int64) Hierarchy {
	var h Hierarchy
	for k := range byKommun {
		h.Kommuner = append(h.Kommuner, k)
	}
	slices.Sort(h.Kommuner)
	lanSum := map[string]int64{}
	var nation int64
	for _, k := range h.Kommuner {
		v := byKommun[k]
		h.Values = append(h.Values, v)
		lan := LanOf(k)
		if _, ok := lanSum[lan]; !ok {
			h.Lans = append(h.Lans, lan)
		}
		lanSum[lan] += v
		nation += v
	}
	slices.Sort(h.Lans)
	for _, l := range h.Lans {
		h.Values = append(h.Values, lanSum[l])
	}
	h.Values = append(h.Values, nation)
	return h
}

// Suppress applies disclosure control to the hierarchy's values: kommuner
// add up to their län, län to the nation.
func (h Hierarchy) Suppress() []bool {
	nK, nL := len(h.Kommuner), len(h.Lans)
	lanAt := map[string]int{}
	for i, l := range h.Lans {
		lanAt[l] = nK + i
	}
	parts := map[int][]int{}
	for i, k := range h.Kommuner {
		at := lanAt[LanOf(k)]
		parts[at] = append(parts[at], i)
	}
	var eqs []Equation
	var lanIdx []int
	for i := range h.Lans {
		eqs = append(eqs, Equation{Total: nK + i, Parts: parts[nK+i]})
		lanIdx = append(lanIdx, nK+i)
	}
	eqs = append(eqs, Equation{Total: nK + nL, Parts: lanIdx})
	return Suppress(h.Values, eqs)
}

// LanOf returns the län of a known kommun code.
func LanOf(kommun string) string {
	if k, ok := kommunIndex[kommun]; ok {
		return kommunList[k].LanCode
	}
	return ""
}
