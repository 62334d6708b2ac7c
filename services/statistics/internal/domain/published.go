package domain

import (
	"slices"

	"github.com/tia-platform/tia/services/statistics/internal/ckm"
)

// Disclosure control by the cell-key method (package ckm). Every figure the
// service publishes to anyone but Migrationsverket is the sum over a set of
// people; the set is what makes it the same figure. Such a set is always a
// place (a set of kommuner) crossed with one value or all values of each of
// housing type, sex and age band. The place is split the same way every
// time into units: a whole län where the set holds all its kommuner (the
// nation where it holds all of them), single kommuner otherwise. A unit ×
// combination is a published cell: its count and its cell key (the sum of
// its people's record keys) give its figure through the perturbation table,
// once per snapshot. A figure over several units is the sum of their
// figures, so it tells nothing the units' figures do not already tell.
//
// So the same set of people has the same figure in every operation, every
// repeated call and for every role below Migrationsverket, and the figures
// a caller can collect are a fixed set of 312 × 84 noisy values per
// snapshot, however many queries it sends: there is nothing to average.

// Units number the places that carry their own noise: the kommuner in code
// order, then the län, then the nation.
var (
	nUnits     = len(kommunList) + len(lanList) + 1
	nationUnit = nUnits - 1
	// lanKommuner lists each län's kommun indexes.
	lanKommuner = func() [][]int {
		out := make([][]int, len(lanList))
		for k, l := range lanOfKommun {
			out[l] = append(out[l], k)
		}
		return out
	}()
)

func lanUnit(l int) int { return len(kommunList) + l }

// A combination is a value or all (the last index) of each of housing type,
// sex and age band: 4 × 3 × 7 = 84 per unit.
const (
	allHousing = nHousing
	allSex     = nSex
	allAge     = nAge
	combos     = (nHousing + 1) * (nSex + 1) * (nAge + 1)
)

func combo(h, s, a int) int { return (h*(nSex+1)+s)*(nAge+1) + a }

// Keys are a snapshot's cell keys, one per cell of its Grid: the sum of
// the record keys of the people counted into the cell (modulo 256).
type Keys []ckm.Key

// NewKeys returns the keys of an empty grid.
func NewKeys() Keys { return make(Keys, GridSize) }

// Published is a snapshot's figures as everyone but Migrationsverket sees
// them: one per unit and combination.
type Published []int64

// Publish perturbs every published cell of the grid with its key, then
// audits the figures (audit).
func Publish(g Grid, k Keys) Published {
	counts, keys := aggregate(g, k)
	out := make(Published, len(counts))
	for i, n := range counts {
		out[i] = ckm.Perturb(n, keys[i])
	}
	audit(g, counts, out)
	return out
}

// aggregate returns the count and the cell key of every published cell.
func aggregate(g Grid, k Keys) ([]int64, []ckm.Key) {
	counts := make([]int64, nUnits*combos)
	keys := make([]ckm.Key, nUnits*combos)
	for kom := range kommunList {
		base := kom * combos
		for j := range perKommun {
			i := kom*perKommun + j
			n, key := g[i], k[i]
			if n == 0 && key == 0 {
				continue
			}
			_, h, s, a := coords(j)
			for _, hh := range [2]int{h, allHousing} {
				for _, ss := range [2]int{s, allSex} {
					for _, aa := range [2]int{a, allAge} {
						c := base + combo(hh, ss, aa)
						counts[c] += n
						keys[c] += key
					}
				}
			}
		}
		lan, nation := lanUnit(lanOfKommun[kom])*combos, nationUnit*combos
		for c := range combos {
			counts[lan+c] += counts[base+c]
			keys[lan+c] += keys[base+c]
			counts[nation+c] += counts[base+c]
			keys[nation+c] += keys[base+c]
		}
	}
	return counts, keys
}

// smallGroup is the largest count whose exact value the figures must not
// give away (docs/disclosure-control.md, threat model).
const smallGroup = 4

// audit makes sure that the figures pin no finest cell of 1 to smallGroup
// people: for each, the same table with only that cell one larger, or one
// smaller, must be consistent with every published figure. Only the 24
// published cells holding the cell (see holding) change in that table, so
// it is consistent when each of their figures could also come from its
// count ±1. By the table's full support (ckm.Generate, TestNeighbours), one
// larger fails only at a cell whose noise is -MaxNoise, and one smaller
// only at +MaxNoise or at a cell of 1 shown as more than 0. Where both
// fail, the audit lifts the cells at -MaxNoise to the next figure their
// row allows (ckm.Lift): a lifted figure could come from its count ±1, so
// it pins no cell, now or after later lifts, and one pass leaves every
// small cell with its alternative. Which cells are lifted depends only on
// the grid and the keys, so every load, replica, operation and role gets
// the same figures.
func audit(g Grid, counts []int64, out Published) {
	accept := func(cells []int, d int64) bool {
		for _, c := range cells {
			if !ckm.Possible(counts[c]+d, out[c]) {
				return false
			}
		}
		return true
	}
	for i, n := range g {
		if n < 1 || n > smallGroup {
			continue
		}
		hold := holding(i)
		edge := false
		for _, c := range hold {
			edge = edge || out[c]-counts[c] == -ckm.MaxNoise
		}
		// Without a cell at -MaxNoise, one larger is consistent (full
		// support); checking that first keeps the audit to a fraction
		// of a millisecond.
		if !edge || accept(hold[:], 1) || accept(hold[:], -1) {
			continue
		}
		for _, c := range hold {
			if !ckm.Possible(counts[c]+1, out[c]) {
				out[c] = ckm.Lift(counts[c])
			}
		}
	}
}

// holding lists the published cells that hold finest cell i: its 8
// combinations (each value or all) in its kommun, then in its län, then in
// the nation.
func holding(i int) (out [24]int) {
	kom, h, s, a := coords(i)
	m := 0
	for _, u := range [3]int{kom, lanUnit(lanOfKommun[kom]), nationUnit} {
		for _, hh := range [2]int{h, allHousing} {
			for _, ss := range [2]int{s, allSex} {
				for _, aa := range [2]int{a, allAge} {
					out[m] = u*combos + combo(hh, ss, aa)
					m++
				}
			}
		}
	}
	return out
}

// Cell is the published figure of one unit and combination (allHousing,
// allSex, allAge for "all").
func (p Published) cell(unit, h, s, a int) int64 { return p[unit*combos+combo(h, s, a)] }

// places is a set of kommuner by index.
type places []bool

// placesOf is the set a query's filters select: all when there are none.
// The kommuner named are found by index, not by a search of the list for
// each of the 290 (a time series asks this for every snapshot, often with
// most of the country's kommuner named).
func placesOf(q Query) places {
	set := make(places, len(kommunList))
	inLan := func(k int) bool { return len(q.LanCodes) == 0 || contains(q.LanCodes, kommunList[k].LanCode) }
	if len(q.KommunCodes) == 0 {
		for k := range kommunList {
			set[k] = inLan(k)
		}
		return set
	}
	for _, code := range q.KommunCodes {
		if k, ok := kommunIndex[code]; ok && inLan(k) {
			set[k] = true
		}
	}
	return set
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// units splits a set of kommuner into units: whole län, or the nation when
// every län is whole, and single kommuner.
func (set places) units() []int {
	out := make([]int, 0, len(kommunList)+len(lanList)) // never moved below
	whole := 0
	for l := range lanKommuner {
		var all bool
		if out, all = set.appendLanUnits(out, l); all {
			whole++
		}
	}
	if whole == len(lanList) {
		return []int{nationUnit}
	}
	return out
}

// appendLanUnits appends to out the units of the set's kommuner in län l:
// the län when the set holds all of them (whole), else those it holds.
func (set places) appendLanUnits(out []int, l int) (_ []int, whole bool) {
	ks := lanKommuner[l]
	whole = true
	for _, k := range ks {
		whole = whole && set[k]
	}
	if whole {
		return append(out, lanUnit(l)), true
	}
	for _, k := range ks {
		if set[k] {
			out = append(out, k)
		}
	}
	return out, false
}

// sum is the figure of a set of units in one combination.
func (p Published) sum(units []int, h, s, a int) int64 {
	var t int64
	for _, u := range units {
		t += p.cell(u, h, s, a)
	}
	return t
}

// Place is the published figure of the people in a set of kommuner (all
// housing types, sexes and ages).
func (p Published) Place(kommunCodes []string) int64 {
	return p.sum(placesOf(Query{KommunCodes: kommunCodes}).units(), allHousing, allSex, allAge)
}

// Kommun is one kommun's published total.
func (p Published) Kommun(code string) int64 {
	k, ok := kommunIndex[code]
	if !ok {
		return 0
	}
	return p.cell(k, allHousing, allSex, allAge)
}

// Lan is one län's published total.
func (p Published) Lan(code string) int64 {
	for l, ld := range lanList {
		if ld.Code == code {
			return p.cell(lanUnit(l), allHousing, allSex, allAge)
		}
	}
	return 0
}

// Nation is the published national total.
func (p Published) Nation() int64 { return p.cell(nationUnit, allHousing, allSex, allAge) }

// NonZeroCells is the number of the finest cells (kommun × housing type ×
// sex × age band) whose published figure is not 0: the cell count a
// protected reader is told.
func (p Published) NonZeroCells() int64 {
	var n int64
	for k := range kommunList {
		for h := range nHousing {
			for s := range nSex {
				for a := range nAge {
					if p.cell(k, h, s, a) != 0 {
						n++
					}
				}
			}
		}
	}
	return n
}

// KommunTotals are the kommuner with a published total other than 0, with
// it, by code: what events carry to other services.
func (p Published) KommunTotals() []KommunTotal {
	var out []KommunTotal
	for k, kd := range kommunList {
		if n := p.cell(k, allHousing, allSex, allAge); n != 0 {
			out = append(out, KommunTotal{KommunCode: kd.Code, LanCode: kd.LanCode, Adults: n})
		}
	}
	return out
}

// A Layout is what a query asks of any snapshot's published figures: the
// units whose sum is its total and, for its grouping and for each of its
// subtotals' groupings, the places and combinations to sum. It depends on
// the query alone (and the fixed geography), so a time series works it out
// once for all its snapshots.
type Layout struct {
	total     []int
	grouped   bool
	groupings []grouping // the rows', then each subtotal's
}

// A grouping is one table part's places, each a set of units, and the
// housing types, sexes and age bands it splits them by.
type grouping struct {
	places     []place
	hs, ss, as []int
}

type place struct {
	lan, kommun string
	units       []int
}

// Layout works out q's layout. Filters must have passed q.Validate.
func (q Query) Layout() Layout {
	set := placesOf(q)
	l := Layout{total: set.units(), grouped: len(q.GroupBy) > 0}
	if !l.grouped {
		return l
	}
	l.groupings = append(l.groupings, groupingOf(set, q.GroupBy))
	for _, m := range margins(q.GroupBy) {
		l.groupings = append(l.groupings, groupingOf(set, m))
	}
	return l
}

// groupingOf is the grouping of dims within set.
func groupingOf(set places, dims []Dimension) grouping {
	has := func(d Dimension) bool { return slices.Contains(dims, d) }
	byLan, byKommun := has(DimLan), has(DimKommun)
	values := func(on bool, n, all int) []int {
		if !on {
			return []int{all}
		}
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	g := grouping{hs: values(has(DimHousing), nHousing, allHousing), ss: values(has(DimSex), nSex, allSex), as: values(has(DimAgeBand), nAge, allAge)}
	switch {
	case byKommun:
		g.places = make([]place, 0, len(kommunList))
		for k, kd := range kommunList {
			if set[k] {
				pl := place{kommun: kd.Code, units: []int{k}}
				if byLan {
					pl.lan = kd.LanCode
				}
				g.places = append(g.places, pl)
			}
		}
	case byLan:
		g.places = make([]place, 0, len(lanKommuner))
		// One array holds every län's units (each kommun at most once, or
		// the län itself), so none of the appends below moves it.
		all := make([]int, 0, len(kommunList)+len(lanList))
		for l := range lanKommuner {
			start := len(all)
			all, _ = set.appendLanUnits(all, l)
			if units := all[start:len(all):len(all)]; len(units) > 0 {
				g.places = append(g.places, place{lan: lanList[l].Code, units: units})
			}
		}
	default:
		g.places = []place{{units: set.units()}}
	}
	return g
}

// Table answers the query whose layout l is with published figures: the
// rows of its grouping, its subtotals (as Tabulate makes them) and its
// total, each the figure of its own set of people. Rows and subtotals whose
// figure is 0 are left out, as groups with nobody are for Migrationsverket,
// so which small groups have people is not told either.
func (p Published) Table(l Layout) Table {
	t := Table{Total: p.sum(l.total, allHousing, allSex, allAge)}
	if !l.grouped {
		t.Rows = []Row{{Count: t.Total}}
		return t
	}
	t.Rows = p.groups(l.groupings[0])
	for _, g := range l.groupings[1:] {
		t.Subtotals = append(t.Subtotals, p.groups(g)...)
	}
	return t
}

// groups lists the groups of g that have a figure other than 0, in the
// order of the dimensions.
func (p Published) groups(g grouping) []Row {
	out := make([]Row, 0, len(g.places)*len(g.hs)*len(g.ss)*len(g.as))
	for _, pl := range g.places {
		for _, h := range g.hs {
			for _, s := range g.ss {
				for _, a := range g.as {
					n := p.sum(pl.units, h, s, a)
					if n == 0 {
						continue
					}
					r := Row{LanCode: pl.lan, KommunCode: pl.kommun, Count: n}
					if h != allHousing {
						r.Housing = HousingTypes[h]
					}
					if s != allSex {
						r.Sex = Sexes[s]
					}
					if a != allAge {
						r.AgeBand = AgeBands[a]
					}
					out = append(out, r)
				}
			}
		}
	}
	return out
}
