package domain

import (
	"math"
	"sort"
	"sync"

	"github.com/tia-platform/tia/services/platform/refdata"
)

// KommunCoverage is need against supply in one kommun on one day (or, with
// an empty Code, a whole län).
type KommunCoverage struct {
	Code, Name      string
	Target          int64
	Projected       int64
	Activities      int32
	Capacity        int64
	Participants    int64
	Utilisation     float64
	NearestKm       float64 // -1 when no activity is ongoing anywhere
	NearestKommun   string
	RouteActivities int32
	RouteCapacity   int64
	UnmetNeed       int64
}

// Coverage is the coverage picture of a län.
type Coverage struct {
	Lan      string
	Total    KommunCoverage
	Kommuner []KommunCoverage
	// Ranked lists the kommuner with unmet need, largest first.
	Ranked []string
}

// CoverageInput is what the store aggregates for one kommun.
type CoverageInput struct {
	Target, Projected int64
	Activities        int32
	Capacity          int64
	Participants      int64
	RouteActivities   int32
	RouteCapacity     int64
}

// ComputeCoverage builds the coverage picture of lan from the per-kommun
// aggregates in in (kommuner missing from it have nothing) and the set of
// kommuner anywhere in Sweden with an ongoing activity, for the distances.
//
// Utilisation is participants / capacity. Unmet need is the target group
// less the places on offer locally and through approved routes, never below
// zero. The ranking orders kommuner with unmet need by that need, then by
// distance to the nearest activity (farther first), then by code.
func ComputeCoverage(lan string, in map[string]CoverageInput, withActivity []string) Coverage {
	ongoing := make(map[string]bool, len(withActivity))
	for _, code := range withActivity {
		ongoing[code] = true
	}
	c := Coverage{Lan: lan}
	total := &c.Total
	total.NearestKm = -1
	for _, k := range refdata.KommunerIn(lan) {
		x := in[k.Code]
		kc := KommunCoverage{
			Code: k.Code, Name: k.Name, Target: x.Target, Projected: x.Projected,
			Activities: x.Activities, Capacity: x.Capacity, Participants: x.Participants,
			RouteActivities: x.RouteActivities, RouteCapacity: x.RouteCapacity,
		}
		kc.NearestKm, kc.NearestKommun = nearestOngoing(k.Code, ongoing)
		kc.Utilisation = Utilisation(kc.Participants, kc.Capacity)
		kc.UnmetNeed = UnmetNeed(kc.Target, kc.Capacity, kc.RouteCapacity)
		c.Kommuner = append(c.Kommuner, kc)

		total.Target += kc.Target
		total.Projected += kc.Projected
		total.Activities += kc.Activities
		total.Capacity += kc.Capacity
		total.Participants += kc.Participants
		total.RouteActivities += kc.RouteActivities
		total.RouteCapacity += kc.RouteCapacity
		total.UnmetNeed += kc.UnmetNeed
		if kc.NearestKm > total.NearestKm {
			// For the län: the longest distance any kommun has to its nearest activity.
			total.NearestKm, total.NearestKommun = kc.NearestKm, kc.NearestKommun
		}
	}
	total.Utilisation = Utilisation(total.Participants, total.Capacity)
	ranked := make([]KommunCoverage, 0, len(c.Kommuner))
	for _, kc := range c.Kommuner {
		if kc.UnmetNeed > 0 {
			ranked = append(ranked, kc)
		}
	}
	sort.SliceStable(ranked, func(i, j int) bool {
		a, b := ranked[i], ranked[j]
		if a.UnmetNeed != b.UnmetNeed {
			return a.UnmetNeed > b.UnmetNeed
		}
		da, db := a.NearestKm, b.NearestKm
		if da < 0 {
			da = math.Inf(1)
		}
		if db < 0 {
			db = math.Inf(1)
		}
		if da != db {
			return da > db
		}
		return a.Code < b.Code
	})
	for _, kc := range ranked {
		c.Ranked = append(c.Ranked, kc.Code)
	}
	return c
}

// byDistance lists, for every kommun, all kommuner nearest first (itself
// first, at 0 km), computed once from the seats' coordinates.
var byDistance = sync.OnceValue(func() map[string][]neighbour {
	all := refdata.Kommuner()
	out := make(map[string][]neighbour, len(all))
	for _, k := range all {
		list := make([]neighbour, 0, len(all))
		for _, o := range all {
			d := 0.0
			if o.Code != k.Code {
				d = refdata.DistanceKm(k, o)
			}
			list = append(list, neighbour{code: o.Code, km: d})
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].km != list[j].km {
				return list[i].km < list[j].km
			}
			return list[i].code < list[j].code
		})
		out[k.Code] = list
	}
	return out
})

type neighbour struct {
	code string
	km   float64
}

// nearestOngoing is Nearest over the kommuner in ongoing, walking the
// precomputed list from the nearest outwards.
func nearestOngoing(code string, ongoing map[string]bool) (float64, string) {
	for _, n := range byDistance()[code] {
		if ongoing[n.code] {
			return math.Round(n.km*10) / 10, n.code
		}
	}
	return -1, ""
}

// Nearest returns the distance in km from k's seat to the nearest of seats,
// and that kommun's code; -1 and "" when seats is empty.
func Nearest(k refdata.Kommun, seats []refdata.Kommun) (float64, string) {
	best, code := -1.0, ""
	for _, s := range seats {
		d := 0.0
		if s.Code != k.Code {
			d = refdata.DistanceKm(k, s)
		}
		if best < 0 || d < best || (d == best && s.Code < code) {
			best, code = d, s.Code
		}
	}
	if best > 0 {
		best = math.Round(best*10) / 10
	}
	return best, code
}

// Utilisation is participants per place; 0 without places.
func Utilisation(participants, capacity int64) float64 {
	if capacity <= 0 {
		return 0
	}
	return math.Round(float64(participants)/float64(capacity)*1000) / 1000
}

// UnmetNeed is the target group less the places reachable locally and by
// route, never negative.
func UnmetNeed(target, capacity, routeCapacity int64) int64 {
	return max(0, target-capacity-routeCapacity)
}
