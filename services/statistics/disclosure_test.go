package statistics_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/statistics"
	"github.com/tia-platform/tia/services/statistics/generate"
	"github.com/tia-platform/tia/services/statistics/internal/ckm"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
)

// The attack tests play a county board against a generated snapshot at
// today's scale and report what it learns. They print their figures with
// t.Log (go test -v).

const attackDate = "2026-10-31"

var (
	dims    = []statisticsv1.Dimension{dimLan, dimKommun, statisticsv1.Dimension_DIMENSION_HOUSING_TYPE, statisticsv1.Dimension_DIMENSION_SEX, statisticsv1.Dimension_DIMENSION_AGE_BAND}
	housing = []statisticsv1.HousingType{abe, ebo, statisticsv1.HousingType_HOUSING_TYPE_OVRIGT}
	sexes   = []statisticsv1.Sex{kvinna, man}
	ages    = []statisticsv1.AgeBand{age18, age25, statisticsv1.AgeBand_AGE_BAND_35_44, statisticsv1.AgeBand_AGE_BAND_45_54, statisticsv1.AgeBand_AGE_BAND_55_64, statisticsv1.AgeBand_AGE_BAND_65_PLUS}
)

// cellSet names the people a figure counts: a set of kommuner (sorted
// codes) and one value (≥ 0) or all (-1) of housing type, sex and age band.
type cellSet struct {
	places  string
	h, s, a int
}

// finest is a kommun × housing type × sex × age band cell.
type finest struct {
	kommun  string
	h, s, a int
}

// attackEnv is a snapshot of about 20,000 adults and its true figures.
type attackEnv struct {
	env
	truth map[finest]int64
}

func newAttackEnv(t *testing.T) attackEnv {
	t.Helper()
	e := newEnv(t, dbtest.NewSQLite(t), domain.DefaultLimits)
	text := genCSV(t, 2026, generate.RowsForAdults(20_000), attackDate)
	sum, err := e.importPersons(t, append([]*statisticsv1.ImportPersonsRequest{header("snapshots/" + attackDate)}, csvMsgs(text, 1<<16)...), nil)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := e.svc.QuerySnapshot(as(migrationsverket), &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/" + attackDate,
		GroupBy: dims[1:]})
	if err != nil {
		t.Fatal(err)
	}
	truth := map[finest]int64{}
	for _, r := range exact.GetRows() {
		truth[finest{r.GetKommunCode(), int(r.GetHousingType()) - 1, int(r.GetSex()) - 1, int(r.GetAgeBand()) - 1}] = r.GetCount()
	}
	t.Logf("snapshot: %d adults in %d non-empty cells", sum.GetAdults(), len(truth))
	return attackEnv{e, truth}
}

// trueCount is the true count of a set.
func (a attackEnv) trueCount(c cellSet) int64 {
	var n int64
	for f, v := range a.truth {
		if strings.Contains(c.places, f.kommun) && (c.h < 0 || c.h == f.h) && (c.s < 0 || c.s == f.s) && (c.a < 0 || c.a == f.a) {
			n += v
		}
	}
	return n
}

// setOf is the set of people a row of a response to req counts.
func setOf(req *statisticsv1.QuerySnapshotRequest, r *statisticsv1.QueryRow) cellSet {
	var places []string
	for _, k := range refdata.Kommuner() {
		if (len(req.GetLanCodes()) == 0 || slices.Contains(req.GetLanCodes(), k.LanCode)) &&
			(len(req.GetKommunCodes()) == 0 || slices.Contains(req.GetKommunCodes(), k.Code)) &&
			(r.GetLanCode() == "" || r.GetLanCode() == k.LanCode) && (r.GetKommunCode() == "" || r.GetKommunCode() == k.Code) {
			places = append(places, k.Code)
		}
	}
	return cellSet{strings.Join(places, ","), int(r.GetHousingType()) - 1, int(r.GetSex()) - 1, int(r.GetAgeBand()) - 1}
}

// collector keeps every figure published, by the set it counts, and fails
// when one set is given two figures.
type collector struct {
	t       *testing.T
	figures map[cellSet]int64
	seen    int
}

func (c *collector) add(set cellSet, n int64, where string) {
	c.t.Helper()
	c.seen++
	if old, ok := c.figures[set]; ok && old != n {
		c.t.Fatalf("%v published as %d and, in %s, as %d", set, old, where, n)
	}
	c.figures[set] = n
}

// query sends req as p and collects every figure of the answer, a group
// left out counting as a published 0.
func (c *collector) query(svc statisticsSvc, p auth.Principal, req *statisticsv1.QuerySnapshotRequest) *statisticsv1.QuerySnapshotResponse {
	c.t.Helper()
	resp, err := svc.QuerySnapshot(as(p), req)
	if err != nil {
		c.t.Fatalf("%v: %v", req, err)
	}
	where := fmt.Sprintf("query %v as %s", req, p.Role)
	for _, r := range append(resp.GetRows(), resp.GetSubtotals()...) {
		c.add(setOf(req, r), r.GetCount(), where)
	}
	c.add(setOf(req, &statisticsv1.QueryRow{}), resp.GetTotal(), where)
	return resp
}

type statisticsSvc = interface {
	QuerySnapshot(context.Context, *statisticsv1.QuerySnapshotRequest) (*statisticsv1.QuerySnapshotResponse, error)
}

// randomQuery is a query a county board of lan may send about its län: the
// whole län or some of its kommuner, grouped by a random choice of
// dimensions in a random order.
func randomQuery(rng *rand.Rand, lan string) *statisticsv1.QuerySnapshotRequest {
	req := &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/" + attackDate}
	var kommuner []string
	for _, k := range refdata.Kommuner() {
		if k.LanCode == lan {
			kommuner = append(kommuner, k.Code)
		}
	}
	if rng.IntN(3) == 0 {
		req.LanCodes = []string{lan}
	} else {
		for _, k := range kommuner {
			if rng.IntN(2) == 0 {
				req.KommunCodes = append(req.KommunCodes, k)
			}
		}
		if len(req.KommunCodes) == 0 {
			req.KommunCodes = []string{kommuner[rng.IntN(len(kommuner))]}
		}
	}
	for _, i := range rng.Perm(len(dims)) {
		if rng.IntN(2) == 0 {
			req.GroupBy = append(req.GroupBy, dims[i])
		}
	}
	return req
}

// canonical collects, as the county board, every figure of the published
// cells of lan's kommuner, of the län and of the nation: each unit filtered
// alone and grouped by every choice of housing type, sex and age band.
func canonical(t *testing.T, c *collector, svc statisticsSvc, lan string) {
	t.Helper()
	filters := []*statisticsv1.QuerySnapshotRequest{{}, {LanCodes: []string{lan}}}
	for _, k := range refdata.Kommuner() {
		if k.LanCode == lan {
			filters = append(filters, &statisticsv1.QuerySnapshotRequest{KommunCodes: []string{k.Code}})
		}
	}
	for _, f := range filters {
		for mask := range 8 {
			req := &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/" + attackDate, LanCodes: f.LanCodes, KommunCodes: f.KommunCodes}
			for i, d := range dims[2:] {
				if mask&(1<<i) != 0 {
					req.GroupBy = append(req.GroupBy, d)
				}
			}
			resp := c.query(svc, countyBoard05, req)
			// Groups left out are published as 0.
			hs, ss, as := []int{-1}, []int{-1}, []int{-1}
			if mask&1 != 0 {
				hs = []int{0, 1, 2}
			}
			if mask&2 != 0 {
				ss = []int{0, 1}
			}
			if mask&4 != 0 {
				as = []int{0, 1, 2, 3, 4, 5}
			}
			place := setOf(req, &statisticsv1.QueryRow{}).places
			for _, h := range hs {
				for _, s := range ss {
					for _, a := range as {
						set := cellSet{place, h, s, a}
						if _, ok := c.figures[set]; !ok {
							c.add(set, 0, "a group left out")
						}
					}
				}
			}
			_ = resp
		}
	}
}

var countyBoard05 = auth.Principal{Subject: "lst-ostergotland", Role: auth.RoleCountyBoard, Lan: "05"}

// possible reports whether a cell of n people can be published as y.
func possible(n, y int64) bool {
	if n < 0 {
		return false
	}
	if n == 0 {
		return y == 0
	}
	d := y - n
	return d >= -ckm.MaxNoise && d <= ckm.MaxNoise && ckm.Counts[min(n, ckm.Cap)][d+ckm.MaxNoise] > 0
}

// TestNoExactRecovery plays the county board of län 05 (Östergötland):
// 1,000 random queries on its län, then every published cell of its
// kommuner, the län and the nation. It checks that every figure it got is
// the figure of a published cell or a sum of them (so no query, however
// shaped, adds information), then attacks the small cells (true count 1–4):
// the differencing attack of issue 12, least squares over every figure, and
// the question that decides: is there another table of people that every
// figure it has is consistent with, differing in that cell? If there is,
// the figures do not determine the cell.
func TestNoExactRecovery(t *testing.T) {
	a := newAttackEnv(t)
	c := &collector{t: t, figures: map[cellSet]int64{}}
	rng := rand.New(rand.NewPCG(5, 12))
	for range 1000 {
		c.query(a.svc, countyBoard05, randomQuery(rng, "05"))
	}
	queried := len(c.figures)
	canonical(t, c, a.svc, "05")
	t.Logf("county board 05: %d figures in 1,000 random queries and %d of its published cells: %d distinct sets of people, none with two figures",
		c.seen, len(c.figures)-queried, len(c.figures))

	// Units: a kommun, the län or the nation; every figure is the sum of
	// its units' figures.
	var kommuner []string
	for _, k := range refdata.Kommuner() {
		if k.LanCode == "05" {
			kommuner = append(kommuner, k.Code)
		}
	}
	lanPlaces := strings.Join(kommuner, ",")
	var nationPlaces []string
	for _, k := range refdata.Kommuner() {
		nationPlaces = append(nationPlaces, k.Code)
	}
	nation := strings.Join(nationPlaces, ",")
	unitsOf := func(places string) []string {
		if places == lanPlaces || places == nation {
			return []string{places}
		}
		return strings.Split(places, ",")
	}
	for set, y := range c.figures {
		var sum int64
		for _, u := range unitsOf(set.places) {
			sum += c.figures[cellSet{u, set.h, set.s, set.a}]
		}
		if sum != y {
			t.Fatalf("%v published as %d, its published cells add up to %d", set, y, sum)
		}
	}

	// The small cells and the published cells that hold them.
	var small []finest
	for f, n := range a.truth {
		if n >= 1 && n <= 4 && strings.HasPrefix(f.kommun, "05") {
			small = append(small, f)
		}
	}
	slices.SortFunc(small, func(x, y finest) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
	holding := func(f finest) []cellSet {
		var out []cellSet
		for _, p := range []string{f.kommun, lanPlaces, nation} {
			for _, h := range []int{f.h, -1} {
				for _, s := range []int{f.s, -1} {
					for _, ag := range []int{f.a, -1} {
						out = append(out, cellSet{p, h, s, ag})
					}
				}
			}
		}
		return out
	}
	trueOf := map[cellSet]int64{}
	countOf := func(set cellSet) int64 {
		n, ok := trueOf[set]
		if !ok {
			n = a.trueCount(set)
			trueOf[set] = n
		}
		return n
	}

	// 1. Differencing (issue 12): a kommun's figure as the län's figure
	// minus the other kommuner's.
	diffHits := 0
	for _, k := range kommuner {
		est := c.figures[cellSet{lanPlaces, -1, -1, -1}]
		for _, o := range kommuner {
			if o != k {
				est -= c.figures[cellSet{o, -1, -1, -1}]
			}
		}
		if est == countOf(cellSet{k, -1, -1, -1}) {
			diffHits++
		}
	}
	t.Logf("differencing: län minus the other kommuner gives the true kommun total for %d of %d kommuner", diffHits, len(kommuner))

	// 2. Alternative tables: the cell one more or one less, alone or with
	// one other cell of the kommun (or of the län) the other way.
	type change struct {
		f finest
		d int64
	}
	consistent := func(changes []change) bool {
		shift := map[cellSet]int64{}
		for _, ch := range changes {
			if a.truth[ch.f]+ch.d < 0 {
				return false
			}
			for _, set := range holding(ch.f) {
				shift[set] += ch.d
			}
		}
		for set, d := range shift {
			if d == 0 {
				continue
			}
			y, ok := c.figures[set]
			if !ok {
				t.Fatalf("no figure for %v", set)
			}
			if !possible(countOf(set)+d, y) {
				return false
			}
		}
		return true
	}
	determined, alone, paired, wider := 0, 0, 0, 0
	for _, f := range small {
		found := false
		for _, d := range []int64{1, -1} {
			if consistent([]change{{f, d}}) {
				found = true
				alone++
				break
			}
		}
		for _, d := range []int64{1, -1} {
			for _, k := range kommuner {
				for h := range 3 {
					for s := range 2 {
						for ag := range 6 {
							g := finest{k, h, s, ag}
							if found || g == f || (k != f.kommun && (h != f.h || s != f.s || ag != f.a)) {
								continue
							}
							if consistent([]change{{f, d}, {g, -d}}) {
								found = true
								paired++
							}
						}
					}
				}
			}
		}
		// Wider moves: a change of 1 or 2 in the cell balanced in any
		// other cell of the län, or in two cells of its kommun or of its
		// combination elsewhere. One consistent alternative suffices to
		// show the figures do not determine the cell.
		var near []finest
		for _, k := range kommuner {
			for h := range 3 {
				for s := range 2 {
					for ag := range 6 {
						if g := (finest{k, h, s, ag}); g != f && (k == f.kommun || (h == f.h && s == f.s && ag == f.a)) {
							near = append(near, g)
						}
					}
				}
			}
		}
		for _, d := range []int64{1, -1, 2, -2} {
			for _, k := range kommuner {
				for h := range 3 {
					for s := range 2 {
						for ag := range 6 {
							if g := (finest{k, h, s, ag}); !found && g != f && consistent([]change{{f, d}, {g, -d}}) {
								found = true
								wider++
							}
						}
					}
				}
			}
			for i := 0; i < len(near) && !found; i++ {
				for j := i + 1; j < len(near) && !found; j++ {
					for _, e := range []int64{1, -1} {
						if !found && consistent([]change{{f, d}, {near[i], e}, {near[j], -d - e}}) {
							found = true
							wider++
						}
					}
				}
			}
		}
		if !found {
			determined++
			t.Logf("small cell %v (true %d): no alternative table found in the searched neighbourhood", f, a.truth[f])
		}
	}
	t.Logf("no exact recovery: of %d small cells (1–4) in län 05, %d have another table consistent with every figure that changes only them, %d one that also changes one other cell, %d one that changes it by up to 2 or two other cells, %d may be determined (no alternative found)",
		len(small), alone, paired, wider, determined)
	// The table has no holes and the audit lifts the edges that would pin a
	// small cell (domain.Publish), so every small cell has an alternative
	// that changes only it, in every key draw.
	if determined > 0 {
		t.Errorf("%d of %d small cells may be determined by the published figures", determined, len(small))
	}
	if alone != len(small) {
		t.Errorf("%d of %d small cells have an alternative that changes only them, want all (the audit's promise)", alone, len(small))
	}

	// 3. Least squares over every distinct figure, unknowns the 468 cells
	// of the län; rounded, against the published figure alone.
	var unknowns []finest
	col := map[finest]int{}
	for _, k := range kommuner {
		for h := range 3 {
			for s := range 2 {
				for ag := range 6 {
					col[finest{k, h, s, ag}] = len(unknowns)
					unknowns = append(unknowns, finest{k, h, s, ag})
				}
			}
		}
	}
	n := len(unknowns)
	ata := make([][]float64, n)
	for i := range ata {
		ata[i] = make([]float64, n+1) // last column: Aᵀy
	}
	equations := 0
	for set, y := range c.figures {
		if set.places == nation {
			continue // holds cells outside the län
		}
		var idx []int
		for _, u := range strings.Split(set.places, ",") {
			for h := range 3 {
				for s := range 2 {
					for ag := range 6 {
						if (set.h < 0 || set.h == h) && (set.s < 0 || set.s == s) && (set.a < 0 || set.a == ag) {
							idx = append(idx, col[finest{u, h, s, ag}])
						}
					}
				}
			}
		}
		equations++
		for _, i := range idx {
			for _, j := range idx {
				ata[i][j]++
			}
			ata[i][n] += float64(y)
		}
	}
	x := solve(ata)
	lsHits, pubHits := 0, 0
	var lsErr float64
	for _, f := range small {
		est := x[col[f]]
		lsErr += math.Abs(est - float64(a.truth[f]))
		if math.Round(est) == float64(a.truth[f]) {
			lsHits++
		}
		if c.figures[cellSet{f.kommun, f.h, f.s, f.a}] == a.truth[f] {
			pubHits++
		}
	}
	t.Logf("least squares over %d equations in %d unknowns: rounded, the true value of %d of %d small cells (mean error %.2f); the published figure alone: %d",
		equations, n, lsHits, len(small), lsErr/float64(len(small)), pubHits)
	if len(small) < 20 {
		t.Fatalf("only %d small cells: the test needs a snapshot with small cells to attack", len(small))
	}
}

// solve solves the normal equations m (n × n+1, augmented) by Gaussian
// elimination with partial pivoting; a tiny ridge keeps it regular.
func solve(m [][]float64) []float64 {
	n := len(m)
	for i := range n {
		m[i][i] += 1e-9
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			if f == 0 {
				continue
			}
			for j := c; j <= n; j++ {
				m[r][j] -= f * m[c][j]
			}
		}
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := m[i][n]
		for j := i + 1; j < n; j++ {
			s -= m[i][j] * x[j]
		}
		x[i] = s / m[i][i]
	}
	return x
}

// TestAveragingAttack: for each small cell of län 05, every decomposition
// the county board can form from published cells (the cell itself; each
// published cell holding it, in its kommun or its län, minus the cell's
// companions; and each chain of such cells, one dimension at a time, in
// every order) gives an estimate; their mean, rounded, is the attack's
// answer, against the published figure alone. The figures are fixed per
// cell, so asking more cannot bring new independent noise to average.
func TestAveragingAttack(t *testing.T) {
	a := newAttackEnv(t)
	c := &collector{t: t, figures: map[cellSet]int64{}}
	canonical(t, c, a.svc, "05")
	var kommuner []string
	for _, k := range refdata.Kommuner() {
		if k.LanCode == "05" {
			kommuner = append(kommuner, k.Code)
		}
	}
	lanPlaces := strings.Join(kommuner, ",")
	fig := func(places string, h, s, ag int) float64 {
		y, ok := c.figures[cellSet{places, h, s, ag}]
		if !ok {
			t.Fatalf("no figure for %s %d %d %d", places, h, s, ag)
		}
		return float64(y)
	}
	// members lists the finest cells (as kommun, h, s, a) of a published
	// cell of place p.
	members := func(p string, h, s, ag int) [][4]int {
		var out [][4]int
		ks := []string{p}
		if p == lanPlaces {
			ks = kommuner
		}
		for ki := range ks {
			for hh := range 3 {
				for ss := range 2 {
					for aa := range 6 {
						if (h < 0 || h == hh) && (s < 0 || s == ss) && (ag < 0 || ag == aa) {
							out = append(out, [4]int{ki, hh, ss, aa})
						}
					}
				}
			}
		}
		return out
	}
	var hits, pubHits, small, decompositions int
	for f, n := range a.truth {
		if n < 1 || n > 4 || !strings.HasPrefix(f.kommun, "05") {
			continue
		}
		small++
		direct := fig(f.kommun, f.h, f.s, f.a)
		ests := []float64{direct}
		for _, p := range []string{f.kommun, lanPlaces} {
			ks := []string{p}
			if p == lanPlaces {
				ks = kommuner
			}
			// A published cell holding f, minus its other finest cells.
			for _, h := range []int{f.h, -1} {
				for _, s := range []int{f.s, -1} {
					for _, ag := range []int{f.a, -1} {
						if p == f.kommun && h >= 0 && s >= 0 && ag >= 0 {
							continue
						}
						est := fig(p, h, s, ag)
						for _, m := range members(p, h, s, ag) {
							if ks[m[0]] != f.kommun || m[1] != f.h || m[2] != f.s || m[3] != f.a {
								est -= fig(ks[m[0]], m[1], m[2], m[3])
							}
						}
						ests = append(ests, est)
					}
				}
			}
			// Chains: from the unit's total, take away the other values of
			// one dimension at a time, in each of the six orders.
			for _, order := range [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
				cur := [3]int{-1, -1, -1}
				est := fig(p, -1, -1, -1)
				want := [3]int{f.h, f.s, f.a}
				sizes := [3]int{3, 2, 6}
				for _, d := range order {
					for v := range sizes[d] {
						if v == want[d] {
							continue
						}
						other := cur
						other[d] = v
						est -= fig(p, other[0], other[1], other[2])
					}
					cur[d] = want[d]
				}
				// Down to the cell in p; in the län, take away the other
				// kommuner's cells too.
				if p == lanPlaces {
					for _, k := range kommuner {
						if k != f.kommun {
							est -= fig(k, f.h, f.s, f.a)
						}
					}
				}
				ests = append(ests, est)
			}
		}
		decompositions += len(ests)
		var mean float64
		for _, e := range ests {
			mean += e
		}
		mean /= float64(len(ests))
		if math.Round(mean) == float64(n) {
			hits++
		}
		if direct == float64(n) {
			pubHits++
		}
	}
	t.Logf("averaging attack over %d small cells (%d decompositions each): the mean, rounded, is the true value for %d (%.0f %%); the published figure alone for %d (%.0f %%)",
		small, decompositions/max(small, 1), hits, 100*float64(hits)/float64(small), pubHits, 100*float64(pubHits)/float64(small))
	if small < 20 {
		t.Fatalf("only %d small cells", small)
	}
	// Were every query given fresh noise, averaging n answers would shrink
	// the error √n-fold and recover nearly every cell; here the attack stays
	// a guess among several values.
	if float64(hits) > 0.6*float64(small) {
		t.Fatalf("averaging recovers %d of %d small cells", hits, small)
	}
}

// TestUtility: every county board gets a figure in every cell of its län's
// kommun × housing type and kommun × sex × age band tables (nothing is
// withheld), within ±3 of the truth. Reports the mean and largest
// deviation over the 21 län.
func TestUtility(t *testing.T) {
	a := newAttackEnv(t)
	groupings := map[string][]statisticsv1.Dimension{
		"kommun × housing type":        {dimKommun, statisticsv1.Dimension_DIMENSION_HOUSING_TYPE},
		"kommun × sex × age band":      {dimKommun, statisticsv1.Dimension_DIMENSION_SEX, statisticsv1.Dimension_DIMENSION_AGE_BAND},
		"kommun (coverage, catalogue)": {dimKommun},
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range groupings {
			if !yield(k) {
				return
			}
		}
	}) {
		var cells, withFigure, nonEmpty, nonEmptyShown int
		var sumDev float64
		var maxDev int64
		for _, lan := range refdata.Lans() {
			board := auth.Principal{Subject: "lst-" + lan.Code, Role: auth.RoleCountyBoard, Lan: lan.Code}
			req := &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/" + attackDate, LanCodes: []string{lan.Code}, GroupBy: groupings[name]}
			resp, err := a.svc.QuerySnapshot(as(board), req)
			if err != nil {
				t.Fatal(err)
			}
			got := map[cellSet]int64{}
			for _, r := range resp.GetRows() {
				if r.GetSuppressed() {
					continue
				}
				got[setOf(req, r)] = r.GetCount()
			}
			// Every cell of the table: a row, or left out as 0; never
			// withheld.
			for _, k := range refdata.Kommuner() {
				if k.LanCode != lan.Code {
					continue
				}
				hs, ss, as := []int{-1}, []int{-1}, []int{-1}
				if slices.Contains(groupings[name], statisticsv1.Dimension_DIMENSION_HOUSING_TYPE) {
					hs = []int{0, 1, 2}
				}
				if slices.Contains(groupings[name], statisticsv1.Dimension_DIMENSION_SEX) {
					ss, as = []int{0, 1}, []int{0, 1, 2, 3, 4, 5}
				}
				for _, h := range hs {
					for _, s := range ss {
						for _, ag := range as {
							set := cellSet{k.Code, h, s, ag}
							truth, shown := a.trueCount(set), got[set]
							cells++
							withFigure++ // a row, or 0 by its absence: nothing is withheld
							if truth > 0 {
								nonEmpty++
								if shown > 0 {
									nonEmptyShown++
								}
							}
							dev := shown - truth
							if dev < 0 {
								dev = -dev
							}
							sumDev += float64(dev)
							maxDev = max(maxDev, dev)
						}
					}
				}
			}
		}
		share := float64(withFigure) / float64(cells)
		t.Logf("%s: %d cells in 21 län; a figure in %.0f %%; of the %d non-empty, %.1f %% shown other than 0; deviation mean %.2f, largest %d",
			name, cells, 100*share, nonEmpty, 100*float64(nonEmptyShown)/float64(nonEmpty), sumDev/float64(cells), maxDev)
		if share < 0.95 || maxDev > ckm.MaxNoise {
			t.Fatalf("%s: a figure in %.0f %% of cells, largest deviation %d", name, 100*share, maxDev)
		}
	}
}

// TestConsistency: one cell (a kommun's total, and one of its finest cells)
// has the same published figure in every operation, every repeated call
// and every role below Migrationsverket, and in the events other services
// show.
func TestConsistency(t *testing.T) {
	a := newAttackEnv(t)
	name := "snapshots/" + attackDate
	const kommun = "0582"
	roles := []auth.Principal{countyBoard05, countyBoard, organiser, folkbildningsradet, asylumSeeker}
	var want int64 = -1
	seen := func(what string, got int64) {
		t.Helper()
		if want < 0 {
			want = got
		}
		if got != want {
			t.Fatalf("%s gives %d, earlier %d", what, got, want)
		}
	}
	for _, p := range roles {
		for range 2 { // repeated calls
			row, err := a.svc.QuerySnapshot(as(p), &statisticsv1.QuerySnapshotRequest{Snapshot: name, KommunCodes: []string{kommun}})
			if err != nil {
				t.Fatal(err)
			}
			seen(string(p.Role)+" total of a kommun filter", row.GetTotal())
			grouped, err := a.svc.QuerySnapshot(as(p), &statisticsv1.QuerySnapshotRequest{Snapshot: name, LanCodes: []string{"05"}, GroupBy: []statisticsv1.Dimension{dimKommun}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range grouped.GetRows() {
				if r.GetKommunCode() == kommun {
					seen(string(p.Role)+" row of a grouping", r.GetCount())
				}
			}
			sub, err := a.svc.QuerySnapshot(as(p), &statisticsv1.QuerySnapshotRequest{Snapshot: name, KommunCodes: []string{kommun},
				GroupBy: []statisticsv1.Dimension{dimKommun, statisticsv1.Dimension_DIMENSION_SEX}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range sub.GetSubtotals() {
				if r.GetKommunCode() == kommun && r.GetSex() == 0 {
					seen(string(p.Role)+" subtotal", r.GetCount())
				}
			}
			series, err := a.svc.QueryTimeSeries(as(p), &statisticsv1.QueryTimeSeriesRequest{KommunCodes: []string{kommun}, GroupBy: []statisticsv1.Dimension{dimKommun}})
			if err != nil {
				t.Fatal(err)
			}
			seen(string(p.Role)+" time series", series.GetRows()[0].GetCount())
			cmp, err := a.svc.CompareSnapshots(as(p), &statisticsv1.CompareSnapshotsRequest{FromSnapshot: name, ToSnapshot: name, LanCodes: []string{"05"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range cmp.GetRows() {
				if r.GetKommunCode() == kommun {
					seen(string(p.Role)+" compare", r.GetToCount())
				}
			}
			proj, err := a.svc.GetProjection(as(p), &statisticsv1.GetProjectionRequest{ProjectionDate: "2027-06-30", LanCodes: []string{"05"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range proj.GetRows() {
				if r.GetKommunCode() == kommun {
					seen(string(p.Role)+" projection", r.GetSnapshotCount())
				}
			}
		}
	}
	var ev statisticsv1.SnapshotPublished
	if err := (events.Event{Payload: a.outbox(t, statistics.SubjectSnapshotPublished)[0]}).Decode(&ev); err != nil {
		t.Fatal(err)
	}
	for _, k := range ev.GetKommunTotals() {
		if k.GetKommunCode() == kommun {
			seen("SnapshotPublished", k.GetAdults())
		}
	}
	// The nation's figure: the snapshot summary and the grand total agree.
	snap, err := a.svc.GetSnapshot(as(organiser), &statisticsv1.GetSnapshotRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	grand, err := a.svc.QuerySnapshot(as(asylumSeeker), &statisticsv1.QuerySnapshotRequest{Snapshot: name})
	if err != nil {
		t.Fatal(err)
	}
	if snap.GetTotal() != grand.GetTotal() || !snap.GetPerturbed() {
		t.Fatalf("snapshot summary %v, grand total %d", snap, grand.GetTotal())
	}
	t.Logf("kommun %s (true %d) is published as %d in every operation and role; the nation (true %d) as %d",
		kommun, a.trueCount(cellSet{kommun, -1, -1, -1}), want, a.trueCount(cellSet{strings.Join(func() []string {
			var out []string
			for _, k := range refdata.Kommuner() {
				out = append(out, k.Code)
			}
			return out
		}(), ","), -1, -1, -1}), grand.GetTotal())
}
