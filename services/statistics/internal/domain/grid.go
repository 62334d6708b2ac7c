package domain

import (
	"slices"

	"github.com/tia-platform/tia/services/platform/refdata"
)

// Grid is the whole of one snapshot as a dense array: one count per kommun,
// housing type, sex and age band (290 × 3 × 2 × 6 = 10,440 counts, 83 kB).
// Imports count people into a Grid while they read, so no person is kept;
// queries sum over a Grid in memory, which takes microseconds.
type Grid []int64

// kommunIndex numbers the kommuner in code order; lanOf gives each one's län.
var (
	kommunList  = refdata.Kommuner()
	lanList     = refdata.Lans()
	lanOfKommun = func() []int {
		out := make([]int, len(kommunList))
		for i, k := range kommunList {
			out[i] = slices.IndexFunc(lanList, func(l refdata.Lan) bool { return l.Code == k.LanCode })
		}
		return out
	}()
	kommunIndex = func() map[string]int {
		m := make(map[string]int, len(kommunList))
		for i, k := range kommunList {
			m[k.Code] = i
		}
		return m
	}()
)

const (
	nHousing  = 3
	nSex      = 2
	nAge      = 6
	perKommun = nHousing * nSex * nAge
)

// GridSize is the number of counts in a Grid.
var GridSize = len(kommunList) * perKommun

// NewGrid returns an empty grid.
func NewGrid() Grid { return make(Grid, GridSize) }

// index returns the position of a combination; the indexes are those of
// HousingTypes, Sexes and AgeBands.
func index(kommun, housing, sex, age int) int {
	return kommun*perKommun + housing*nSex*nAge + sex*nAge + age
}

// coords is the inverse of index.
func coords(i int) (kommun, housing, sex, age int) {
	kommun, i = i/perKommun, i%perKommun
	housing, i = i/(nSex*nAge), i%(nSex*nAge)
	return kommun, housing, i / nAge, i % nAge
}

// Add adds n to the cell, which must have passed NewSnapshot; it reports
// false for a cell with an unknown dimension.
func (g Grid) Add(c Cell) bool {
	k, ok := kommunIndex[c.KommunCode]
	h, s, a := slices.Index(HousingTypes, c.Housing), slices.Index(Sexes, c.Sex), slices.Index(AgeBands, c.AgeBand)
	if !ok || h < 0 || s < 0 || a < 0 {
		return false
	}
	g[index(k, h, s, a)] += c.Count
	return true
}

// Cells lists the cells with people, in kommun, housing, sex, age order.
func (g Grid) Cells() []Cell { return g.CellsKeyed(nil) }

// CellsKeyed is Cells with each cell's key from keys (none when keys is
// nil).
func (g Grid) CellsKeyed(keys Keys) []Cell {
	var out []Cell
	for i, n := range g {
		if n == 0 {
			continue
		}
		k, h, s, a := coords(i)
		c := Cell{
			KommunCode: kommunList[k].Code, LanCode: kommunList[k].LanCode,
			Housing: HousingTypes[h], Sex: Sexes[s], AgeBand: AgeBands[a], Count: n,
		}
		if keys != nil {
			c.Key = keys[i]
		}
		out = append(out, c)
	}
	return out
}

// SetKey sets the key of the cell c names; it reports false as Add does.
func (k Keys) SetKey(c Cell) bool {
	km, ok := kommunIndex[c.KommunCode]
	h, s, a := slices.Index(HousingTypes, c.Housing), slices.Index(Sexes, c.Sex), slices.Index(AgeBands, c.AgeBand)
	if !ok || h < 0 || s < 0 || a < 0 {
		return false
	}
	k[index(km, h, s, a)] = c.Key
	return true
}

// Total is the sum of the grid.
func (g Grid) Total() int64 {
	var t int64
	for _, n := range g {
		t += n
	}
	return t
}

// KommunTotal is the number of adults in one kommun.
type KommunTotal struct {
	KommunCode, LanCode string
	Adults              int64
}

// KommunTotals lists the kommuner with people and their totals, by code.
func (g Grid) KommunTotals() []KommunTotal {
	var out []KommunTotal
	for k := range kommunList {
		var t int64
		for _, n := range g[k*perKommun : (k+1)*perKommun] {
			t += n
		}
		if t > 0 {
			out = append(out, KommunTotal{KommunCode: kommunList[k].Code, LanCode: kommunList[k].LanCode, Adults: t})
		}
	}
	return out
}

// Sum answers q on the grid: the rows with people of q's grouping, in the
// order of the dimensions (län, kommun, housing, sex, age band), or one
// grand-total row when q groups by nothing. Filters must have passed
// q.Validate.
func (g Grid) Sum(q Query) []Row { return sumBlocks(g, perKommun, q) }

// PlaceTotals are a grid's totals per kommun (in kommun order): all that
// queries grouping by place only (län, kommun or nothing) need, so they sum
// 290 numbers instead of 10,440.
type PlaceTotals []int64

// PlaceTotals sums the grid per kommun.
func (g Grid) PlaceTotals() PlaceTotals {
	out := make(PlaceTotals, len(kommunList))
	for k := range out {
		for _, n := range g[k*perKommun : (k+1)*perKommun] {
			out[k] += n
		}
	}
	return out
}

// ByPlaceOnly reports whether q groups by nothing but län and kommun, so
// that PlaceTotals can answer it.
func (q Query) ByPlaceOnly() bool {
	for _, d := range q.GroupBy {
		if d != DimLan && d != DimKommun {
			return false
		}
	}
	return true
}

// Sum answers q, which must group by place only (ByPlaceOnly), as Grid.Sum
// would.
func (p PlaceTotals) Sum(q Query) []Row { return sumBlocks(p, 1, q) }

// sumBlocks sums values laid out as one block of per counts per kommun: the
// grid (per = perKommun) or its place totals (per = 1).
func sumBlocks(g []int64, per int, q Query) []Row {
	set := placesOf(q) // the kommuner q selects, as for the published figures
	by := func(d Dimension) bool { return slices.Contains(q.GroupBy, d) }
	byLan, byKommun, byHousing, bySex, byAge := by(DimLan), by(DimKommun), by(DimHousing), by(DimSex), by(DimAgeBand)
	// Sum into a dense array indexed by group, in mixed radix: place (the
	// kommun, or its län), housing, sex, age band. A dimension not grouped
	// by has radix 1.
	radix := func(on bool, n int) int {
		if on {
			return n
		}
		return 1
	}
	nPlace := 1
	switch {
	case byKommun:
		nPlace = len(kommunList)
	case byLan:
		nPlace = len(lanList)
	}
	nH, nS, nA := radix(byHousing, nHousing), radix(bySex, nSex), radix(byAge, nAge)
	sums := make([]int64, nPlace*nH*nS*nA)
	// groupOf maps a position within a kommun's block to its group.
	groupsPerPlace := nH * nS * nA
	var groupOf [perKommun]int
	if per == perKommun {
		for j := range perKommun {
			_, h, s, a := coords(j)
			groupOf[j] = ((h%nH)*nS+s%nS)*nA + a%nA
		}
	}
	for k := range kommunList {
		if !set[k] {
			continue
		}
		place := 0
		switch {
		case byKommun:
			place = k
		case byLan:
			place = lanOfKommun[k]
		}
		base := g[k*per : (k+1)*per]
		for j, n := range base {
			if n != 0 {
				sums[place*groupsPerPlace+groupOf[j]] += n
			}
		}
	}
	if len(q.GroupBy) == 0 {
		return []Row{{Count: sums[0]}}
	}
	var out []Row
	for gi, n := range sums {
		if n == 0 {
			continue
		}
		a := gi % nA
		s := gi / nA % nS
		h := gi / (nA * nS) % nH
		place := gi / (nA * nS * nH)
		var r Row
		switch {
		case byKommun:
			r.KommunCode = kommunList[place].Code
			if byLan {
				r.LanCode = kommunList[place].LanCode
			}
		case byLan:
			r.LanCode = lanList[place].Code
		}
		if byHousing {
			r.Housing = HousingTypes[h]
		}
		if bySex {
			r.Sex = Sexes[s]
		}
		if byAge {
			r.AgeBand = AgeBands[a]
		}
		r.Count = n
		out = append(out, r)
	}
	// Kommun codes begin with their län's code and both lists are in code
	// order, so the rows are already sorted.
	return out
}

// CompareRows orders rows by län, kommun, housing type, sex and age band, in
// the display order of each dimension.
func CompareRows(a, b Row) int {
	if c := compareStr(a.LanCode, b.LanCode); c != 0 {
		return c
	}
	if c := compareStr(a.KommunCode, b.KommunCode); c != 0 {
		return c
	}
	if c := slices.Index(HousingTypes, a.Housing) - slices.Index(HousingTypes, b.Housing); c != 0 {
		return c
	}
	if c := slices.Index(Sexes, a.Sex) - slices.Index(Sexes, b.Sex); c != 0 {
		return c
	}
	return slices.Index(AgeBands, a.AgeBand) - slices.Index(AgeBands, b.AgeBand)
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
