package domain

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tia-platform/tia/services/statistics/internal/ckm"
)

// TestPlacesOf checks the set a query's filters select against its
// definition: a kommun is in it when its län is named (or none is) and it is
// named (or none is). Unknown and repeated codes select nothing more.
func TestPlacesOf(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pick := func(n int, code func(int) string) []string {
		var out []string
		for range n {
			out = append(out, code(r.IntN(len(kommunList))))
		}
		return out
	}
	kommun := func(k int) string { return kommunList[k].Code }
	lan := func(k int) string { return kommunList[k].LanCode }
	queries := []Query{
		{},
		{LanCodes: []string{"03"}},
		{KommunCodes: []string{"0380", "0380", "9999"}},
		{LanCodes: []string{"01"}, KommunCodes: []string{"0380", "0180"}},
	}
	for range 200 {
		queries = append(queries, Query{LanCodes: pick(r.IntN(3), lan), KommunCodes: pick(r.IntN(260), kommun)})
	}
	for _, q := range queries {
		got := placesOf(q)
		for k, kd := range kommunList {
			want := (len(q.LanCodes) == 0 || contains(q.LanCodes, kd.LanCode)) &&
				(len(q.KommunCodes) == 0 || contains(q.KommunCodes, kd.Code))
			if got[k] != want {
				t.Fatalf("placesOf(län %v, %d kommuner): kommun %s is %v, want %v", q.LanCodes, len(q.KommunCodes), kd.Code, got[k], want)
			}
		}
	}
}

// TestLanUnits checks a län's units, as the grouping by län takes them,
// against units() of the set cut down to that län (how they were taken
// before): the län when the set holds all its kommuner, else those it holds.
func TestLanUnits(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 300 {
		set := make(places, len(kommunList))
		p := []float64{0, 1, 0.5, 0.97}[i%4]
		for k := range set {
			set[k] = r.Float64() < p
		}
		for l, ks := range lanKommuner {
			sub := make(places, len(kommunList))
			for _, k := range ks {
				sub[k] = set[k]
			}
			want := sub.units()
			got, whole := set.appendLanUnits(nil, l)
			if len(want) == 0 {
				want = nil
			}
			if !slices.Equal(got, want) {
				t.Fatalf("set %d, län %s: units %v, want %v", i, lanList[l].Code, got, want)
			}
			if whole != (len(got) == 1 && got[0] == lanUnit(l)) {
				t.Fatalf("set %d, län %s: whole = %v for units %v", i, lanList[l].Code, whole, got)
			}
		}
	}
}

// TestGroupsByLan checks grouping published figures by län (its units all
// taken into one shared array) against each län's units taken on their own
// (appendLanUnits from nothing) and summed, for random sets of kommuner.
func TestGroupsByLan(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := NewGrid()
	for i := range g {
		g[i] = int64(r.IntN(30))
	}
	keys := NewKeys()
	src := ckm.NewSeededKeySource([32]byte{9})
	for i, n := range g {
		keys[i] = src.RandomKey(n)
	}
	pub := Publish(g, keys)
	for i := range 100 {
		set := make(places, len(kommunList))
		for k := range set {
			set[k] = i%10 == 0 || r.IntN(3) > 0 // some sets hold every kommun
		}
		got := pub.groups(groupingOf(set, []Dimension{DimLan, DimSex}))
		var want []Row
		for l := range lanKommuner {
			units, _ := set.appendLanUnits(nil, l)
			if len(units) == 0 {
				continue
			}
			for s := range nSex {
				if n := pub.sum(units, allHousing, s, allAge); n != 0 {
					want = append(want, Row{LanCode: lanList[l].Code, Sex: Sexes[s], Count: n})
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("set %d: groups by län and sex = %v, want %v", i, got, want)
		}
	}
}
