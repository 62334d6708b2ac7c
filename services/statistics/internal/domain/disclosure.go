package domain

import (
	"math"
	"slices"
)

// Disclosure control. Counts of people are published to everyone but
// Migrationsverket with small counts withheld: a count of 1–4 could point at
// a person. Withholding one count is not enough when the response also
// carries the total it adds up to: the total minus the other counts gives it
// back. So after the small counts (primary suppression) more counts are
// withheld (secondary suppression) until no withheld count can be worked out
// from the published ones.

// MinPublished is the smallest count published; 1 to MinPublished-1 are
// withheld. Zero is published: it is an absence, not a person.
const MinPublished = 5

// Equation says that the value at Total is the sum of the values at Parts
// (indexes into the table's values).
type Equation struct {
	Total int
	Parts []int
}

// Suppress returns which of values are withheld, given the equations that
// bind them. It withholds every count from 1 to MinPublished-1, then, as
// long as an equation has exactly one withheld member, also the smallest
// other member (a part rather than the total when one is left); and it then
// checks exactly, by solving the equations over the withheld values, that
// none of them is determined, withholding more where one is. The result is
// deterministic for a given input.
func Suppress(values []int64, eqs []Equation) []bool {
	sup := make([]bool, len(values))
	for i, v := range values {
		if v > 0 && v < MinPublished {
			sup[i] = true
		}
	}
	if !slices.Contains(sup, true) {
		return sup
	}
	memberOf := make([][]int, len(values))
	for ei, e := range eqs {
		memberOf[e.Total] = append(memberOf[e.Total], ei)
		for _, p := range e.Parts {
			memberOf[p] = append(memberOf[p], ei)
		}
	}
	pick := func(e Equation) int { return candidate(values, e, sup, eqs, memberOf) }
	for {
		protectEquations(eqs, sup, pick)
		determined := determinedValues(values, eqs, sup)
		if len(determined) == 0 {
			return sup
		}
		// Withhold one more member of an equation holding the first
		// determined value, then go round again.
		progressed := false
		for _, d := range determined {
			for _, e := range eqs {
				if e.Total != d && !slices.Contains(e.Parts, d) {
					continue
				}
				if c := pick(e); c >= 0 {
					sup[c] = true
					progressed = true
					break
				}
			}
			if progressed {
				break
			}
		}
		if !progressed {
			// Everything around the determined values is withheld already;
			// withholding cannot help further (this only happens when the
			// equations pin a value by themselves, e.g. a total of one part).
			return sup
		}
	}
}

// protectEquations repeats the one-withheld-member rule until it holds.
func protectEquations(eqs []Equation, sup []bool, pick func(Equation) int) {
	for changed := true; changed; {
		changed = false
		for _, e := range eqs {
			if withheld(e, sup) != 1 {
				continue
			}
			if c := pick(e); c >= 0 {
				sup[c] = true
				changed = true
			}
		}
	}
}

func withheld(e Equation, sup []bool) int {
	n := 0
	if sup[e.Total] {
		n++
	}
	for _, p := range e.Parts {
		if sup[p] {
			n++
		}
	}
	return n
}

// candidate is the published member of e to withhold next: a part that
// also sits in other equations with exactly one withheld member (so one
// withholding protects several), the smallest among equals (ties to the
// first); or the total when every part is withheld.
func candidate(values []int64, e Equation, sup []bool, eqs []Equation, memberOf [][]int) int {
	best, bestScore := -1, -1
	for _, p := range e.Parts {
		if sup[p] {
			continue
		}
		score := 0
		for _, ei := range memberOf[p] {
			if withheld(eqs[ei], sup) == 1 {
				score++
			}
		}
		if best < 0 || score > bestScore || score == bestScore && values[p] < values[best] {
			best, bestScore = p, score
		}
	}
	if best < 0 && !sup[e.Total] {
		best = e.Total
	}
	return best
}

// maxExact bounds the exact check: elimination is cubic in the withheld
// values, and beyond this the equation rule alone is relied upon.
const maxExact = 600

// determinedValues returns the withheld values that the published values and
// the equations fix exactly. It eliminates over the withheld values as
// unknowns: a value is determined when its column is a pivot whose row has
// no other unknown left.
func determinedValues(values []int64, eqs []Equation, sup []bool) []int {
	var unknowns []int
	col := make(map[int]int)
	for i, s := range sup {
		if s {
			col[i] = len(unknowns)
			unknowns = append(unknowns, i)
		}
	}
	if len(unknowns) > maxExact {
		return nil
	}
	var m [][]float64
	for _, e := range eqs {
		row := make([]float64, len(unknowns))
		any := false
		add := func(i int, coef float64) {
			if c, ok := col[i]; ok {
				row[c] += coef
				any = true
			}
		}
		add(e.Total, -1)
		for _, p := range e.Parts {
			add(p, 1)
		}
		if any {
			m = append(m, row)
		}
	}
	const eps = 1e-9
	pivotRow := make([]int, len(unknowns))
	for i := range pivotRow {
		pivotRow[i] = -1
	}
	r := 0
	for c := 0; c < len(unknowns) && r < len(m); c++ {
		p := -1
		for i := r; i < len(m); i++ {
			if math.Abs(m[i][c]) > eps && (p < 0 || math.Abs(m[i][c]) > math.Abs(m[p][c])) {
				p = i
			}
		}
		if p < 0 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		pv := m[r][c]
		for j := range m[r] {
			m[r][j] /= pv
		}
		for i := range m {
			if i == r || math.Abs(m[i][c]) <= eps {
				continue
			}
			f := m[i][c]
			for j := range m[i] {
				m[i][j] -= f * m[r][j]
			}
		}
		pivotRow[c] = r
		r++
	}
	var out []int
	for c, pr := range pivotRow {
		if pr < 0 {
			continue
		}
		alone := true
		for j, x := range m[pr] {
			if j != c && math.Abs(x) > eps {
				alone = false
				break
			}
		}
		if alone {
			out = append(out, unknowns[c])
		}
	}
	return out
}
