package domain

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// table2D builds a table of rows×cols cells with row totals, column totals
// and a grand total, and the equations binding them. Values are laid out:
// cells (row-major), row totals, column totals, grand total.
func table2D(cells [][]int64) ([]int64, []Equation) {
	nr, nc := len(cells), len(cells[0])
	var values []int64
	for _, row := range cells {
		values = append(values, row...)
	}
	var eqs []Equation
	var grand int64
	for r := range nr {
		var sum int64
		var parts []int
		for c := range nc {
			sum += cells[r][c]
			parts = append(parts, r*nc+c)
		}
		eqs = append(eqs, Equation{Total: len(values), Parts: parts})
		values = append(values, sum)
		grand += sum
	}
	var colTotals []int
	for c := range nc {
		var sum int64
		var parts []int
		for r := range nr {
			sum += cells[r][c]
			parts = append(parts, r*nc+c)
		}
		eqs = append(eqs, Equation{Total: len(values), Parts: parts})
		colTotals = append(colTotals, len(values))
		values = append(values, sum)
	}
	var rowTotals []int
	for r := range nr {
		rowTotals = append(rowTotals, nr*nc+r)
	}
	eqs = append(eqs, Equation{Total: len(values), Parts: rowTotals})
	eqs = append(eqs, Equation{Total: len(values), Parts: colTotals})
	values = append(values, grand)
	return values, eqs
}

// checkSafe asserts what disclosure control promises: every count of 1–4
// is withheld, no equation has exactly one withheld member, and no withheld
// value is fixed by the published ones.
func checkSafe(t *testing.T, values []int64, eqs []Equation, sup []bool) {
	t.Helper()
	for i, v := range values {
		if v > 0 && v < MinPublished && !sup[i] {
			t.Errorf("value %d (%d) is small but published", i, v)
		}
	}
	for _, e := range eqs {
		if withheld(e, sup) == 1 {
			t.Errorf("equation %v has exactly one withheld member (sup %v)", e, sup)
		}
	}
	if d := determinedValues(values, eqs, sup); len(d) > 0 {
		t.Errorf("withheld values %v can be worked out", d)
	}
}

func TestSuppress(t *testing.T) {
	hierarchy := func() ([]int64, []Equation) {
		// nation(6) = L1(4) + L2(5); L1 = k1(0) + k2(1); L2 = k3(2) + k4(3)
		values := []int64{40, 30, 3, 25, 0, 0, 0}
		values[4] = values[0] + values[1]
		values[5] = values[2] + values[3]
		values[6] = values[4] + values[5]
		return values, []Equation{{Total: 4, Parts: []int{0, 1}}, {Total: 5, Parts: []int{2, 3}}, {Total: 6, Parts: []int{4, 5}}}
	}
	tests := []struct {
		name   string
		table  func() ([]int64, []Equation)
		want   []int // indexes that must be withheld
		exactN int   // number withheld, when > 0
	}{
		{
			name:  "nothing small",
			table: func() ([]int64, []Equation) { return table2D([][]int64{{10, 20}, {30, 40}}) },
			want:  nil, exactN: -1,
		},
		{
			// 3 is alone in its row: its row partner, a cell of the other
			// row in its column, and that row's partner go with it.
			name:  "one suppressed cell in a row",
			table: func() ([]int64, []Equation) { return table2D([][]int64{{3, 10, 12}, {20, 30, 8}}) },
			want:  []int{0},
		},
		{
			// The total has two cells; withholding one alone gives it back.
			name: "suppressed cell in the only two-cell row of a total",
			table: func() ([]int64, []Equation) {
				return []int64{2, 50, 52}, []Equation{{Total: 2, Parts: []int{0, 1}}}
			},
			want: []int{0, 1}, exactN: 2,
		},
		{
			name: "total of one part",
			table: func() ([]int64, []Equation) {
				return []int64{3, 3}, []Equation{{Total: 1, Parts: []int{0}}}
			},
			want: []int{0, 1},
		},
		{
			name: "small total of small cells",
			table: func() ([]int64, []Equation) {
				return []int64{1, 2, 3}, []Equation{{Total: 2, Parts: []int{0, 1}}}
			},
			want: []int{0, 1, 2},
		},
		{
			name: "two small cells protect each other",
			table: func() ([]int64, []Equation) {
				return []int64{1, 2, 40, 43}, []Equation{{Total: 3, Parts: []int{0, 1, 2}}}
			},
			want: []int{0, 1}, exactN: 2,
		},
		{
			// k3 = 3 in a län of two kommuner: its partner k4 goes too.
			// Nothing above is needed, as the län total stays published
			// and k3 + k4 is all it tells.
			name:  "kommun in a län of two",
			table: hierarchy,
			want:  []int{2, 3}, exactN: 2,
		},
		{
			// A suppressed cell whose row and column both have only it and
			// one other: the equation rule makes a rectangle.
			name:  "corner of a 3x3 table",
			table: func() ([]int64, []Equation) { return table2D([][]int64{{4, 50, 60}, {70, 80, 90}, {15, 25, 35}}) },
			want:  []int{0},
		},
		{
			name:  "zero cells are published, not withheld",
			table: func() ([]int64, []Equation) { return table2D([][]int64{{0, 10}, {2, 30}}) },
			want:  []int{2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values, eqs := tt.table()
			sup := Suppress(values, eqs)
			for _, i := range tt.want {
				if !sup[i] {
					t.Errorf("value %d (%d) published, want withheld", i, values[i])
				}
			}
			n := 0
			for _, s := range sup {
				if s {
					n++
				}
			}
			if tt.exactN > 0 && n != tt.exactN {
				t.Errorf("%d withheld (%v), want %d", n, sup, tt.exactN)
			}
			if tt.exactN < 0 && n != 0 {
				t.Errorf("%d withheld, want none", n)
			}
			checkSafe(t, values, eqs, sup)
		})
	}
}

// TestSuppressRandomTables runs the promise over many seeded random tables
// with plenty of small cells.
func TestSuppressRandomTables(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 300 {
		nr, nc := 2+r.IntN(6), 2+r.IntN(6)
		cells := make([][]int64, nr)
		for row := range cells {
			cells[row] = make([]int64, nc)
			for c := range cells[row] {
				switch r.IntN(4) {
				case 0:
					cells[row][c] = int64(1 + r.IntN(4))
				case 1:
					cells[row][c] = 0
				default:
					cells[row][c] = int64(5 + r.IntN(80))
				}
			}
		}
		values, eqs := table2D(cells)
		sup := Suppress(values, eqs)
		t.Run("", func(t *testing.T) {
			if t.Failed() {
				t.Logf("table %d: %v", i, cells)
			}
			checkSafe(t, values, eqs, sup)
		})
	}
}

func TestTabulate(t *testing.T) {
	rows := []Row{
		{KommunCode: "0180", Housing: HousingABE, Count: 3},
		{KommunCode: "0180", Housing: HousingEBO, Count: 40},
		{KommunCode: "0184", Housing: HousingABE, Count: 12},
		{KommunCode: "0184", Housing: HousingEBO, Count: 30},
		{KommunCode: "1280", Housing: HousingEBO, Count: 25},
	}
	groupBy := []Dimension{DimKommun, DimHousing}

	open := Tabulate(rows, groupBy, false)
	if open.Total != 110 || open.TotalSuppressed || slices.ContainsFunc(open.Rows, func(r Row) bool { return r.Suppressed }) {
		t.Fatalf("unprotected = %+v", open)
	}
	// Subtotals: per kommun (3), per housing type (2), per län (2).
	if len(open.Subtotals) != 7 {
		t.Fatalf("subtotals = %+v", open.Subtotals)
	}
	var lanSum int64
	for _, s := range open.Subtotals {
		if s.LanCode != "" {
			lanSum += s.Count
		}
	}
	if lanSum != open.Total {
		t.Fatalf("län subtotals add up to %d, total %d", lanSum, open.Total)
	}

	prot := Tabulate(rows, groupBy, true)
	if !prot.Rows[0].Suppressed || prot.Rows[0].Count != 0 {
		t.Fatalf("small cell published: %+v", prot.Rows[0])
	}
	// 0180 has two cells: its other one goes too; so does a second ABE
	// cell (0184 ABE), and then 0184's EBO.
	for _, i := range []int{1, 2, 3} {
		if !prot.Rows[i].Suppressed {
			t.Errorf("row %d published: %+v", i, prot.Rows[i])
		}
	}
	if prot.Rows[4].Suppressed || prot.Total != 110 {
		t.Fatalf("needlessly withheld: %+v total %d", prot.Rows[4], prot.Total)
	}
	if g := Tabulate([]Row{{Count: 3}}, nil, true); !g.TotalSuppressed || g.Rows[0].Count != 0 {
		t.Fatalf("small grand total published: %+v", g)
	}
}

func TestCompareAndProject(t *testing.T) {
	from := []KommunTotal{{"0180", "01", 100}, {"0184", "01", 3}, {"1280", "12", 50}}
	to := []KommunTotal{{"0180", "01", 120}, {"0184", "01", 10}, {"2584", "25", 7}}

	rows, totals := Compare(from, to, false)
	if len(rows) != 4 || rows[0].Change != 20 || rows[2].Change != -50 || rows[3].From != 0 || rows[3].Change != 7 {
		t.Fatalf("rows = %+v", rows)
	}
	if n := totals[len(totals)-1]; n.LanCode != "" || n.From != 153 || n.To != 137 || n.Change != -16 {
		t.Fatalf("nation = %+v", n)
	}
	prot, _ := Compare(from, to, true)
	if !prot[1].FromSuppressed || !prot[1].ChangeSuppressed || prot[1].To != 10 || prot[1].ToSuppressed {
		t.Fatalf("0184 = %+v", prot[1])
	}
	if !prot[0].FromSuppressed || !prot[0].ChangeSuppressed {
		t.Fatalf("0184's partner in Stockholms län published: %+v", prot[0])
	}

	changes := []PlannedChange{
		{KommunCode: "0180", EffectiveDate: "2026-11-15", AdultsDelta: 200},
		{KommunCode: "0180", EffectiveDate: "2027-03-01", AdultsDelta: -50},
		{KommunCode: "2584", EffectiveDate: "2026-12-01", AdultsDelta: 40},
		{KommunCode: "1280", EffectiveDate: "2026-10-01", AdultsDelta: 999}, // before the snapshot: in it already
		{KommunCode: "1280", EffectiveDate: "2026-11-01", AdultsDelta: -80}, // a closing larger than the kommun
	}
	pr, pt := Project(from, changes, "2026-10-31", "2026-12-31", false)
	want := map[string][3]int64{"0180": {100, 200, 300}, "0184": {3, 0, 3}, "1280": {50, -80, 0}, "2584": {0, 40, 40}}
	if len(pr) != len(want) {
		t.Fatalf("projection = %+v", pr)
	}
	for _, r := range pr {
		w := want[r.KommunCode]
		if r.SnapshotCount != w[0] || r.PlannedDelta != w[1] || r.Projected != w[2] {
			t.Errorf("%s = %+v, want %v", r.KommunCode, r, w)
		}
	}
	if n := pt[len(pt)-1]; n.SnapshotCount != 153 || n.PlannedDelta != 160 {
		t.Fatalf("nation = %+v", n)
	}
	later, _ := Project(from, changes, "2026-10-31", "2027-06-30", false)
	if later[0].Projected != 250 {
		t.Fatalf("0180 by mid-2027 = %+v", later[0])
	}
	prp, _ := Project(from, changes, "2026-10-31", "2026-12-31", true)
	if !prp[1].Suppressed || prp[1].Projected != 0 || prp[1].SnapshotCount != 0 {
		t.Fatalf("small kommun published in projection: %+v", prp[1])
	}
}

func TestPlaceTotalsAnswerLikeTheGrid(t *testing.T) {
	g := NewGrid()
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		g[r.IntN(len(g))] += int64(1 + r.IntN(3))
	}
	p := g.PlaceTotals()
	for _, q := range []Query{
		{},
		{GroupBy: []Dimension{DimLan}},
		{GroupBy: []Dimension{DimKommun}},
		{GroupBy: []Dimension{DimKommun, DimLan}},
		{GroupBy: []Dimension{DimLan}, LanCodes: []string{"01", "25"}},
		{GroupBy: []Dimension{DimKommun}, KommunCodes: []string{"0180", "2584", "1280"}, LanCodes: []string{"01", "12"}},
	} {
		if !q.ByPlaceOnly() {
			t.Fatalf("%v not by place only", q)
		}
		if a, b := g.Sum(q), p.Sum(q); !slices.Equal(a, b) {
			t.Fatalf("%+v: grid %v, place totals %v", q, a, b)
		}
	}
	if (Query{GroupBy: []Dimension{DimLan, DimSex}}).ByPlaceOnly() {
		t.Fatal("by sex counted as by place")
	}
}
