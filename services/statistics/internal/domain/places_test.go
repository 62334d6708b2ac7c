package domain

import (
	"math/rand/v2"
	"testing"
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
