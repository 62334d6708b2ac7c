package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/app/apptest"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
	"github.com/tia-platform/tia/services/statistics/internal/store"
)

// testStore is the store with a write transaction of its own per Replace,
// as the service's unit of work gives it.
type testStore struct {
	*store.Store
	db *sqlx.DB
}

func (s testStore) Replace(ctx context.Context, snap domain.Snapshot, cells []domain.Cell) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		_, err := store.Replace(ctx, tx, snap, cells)
		return err
	})
}

// open migrates the database at dsn as the host does for the statistics
// component and returns a store on it.
func open(t *testing.T, dsn string) testStore {
	t.Helper()
	d := apptest.Deps(t, app.Component{Name: "statistics", Migrations: store.Migrations}, dsn).DB
	return testStore{store.New(d), d}
}

// grid is the full grid of a snapshot, every kommun × housing × sex × age
// band (10,440 cells), with counts derived from the position so that every
// sum is different. Every seventh cell is zero, as real figures have empty
// combinations.
func grid(t *testing.T, date string, seed int64) (domain.Snapshot, []domain.Cell) {
	t.Helper()
	var cells []domain.Cell
	n := seed
	for _, k := range refdata.Kommuner() {
		for _, h := range domain.HousingTypes {
			for _, s := range domain.Sexes {
				for _, a := range domain.AgeBands {
					n++
					count := n % 97
					if n%7 == 0 {
						count = 0
					}
					cells = append(cells, domain.Cell{KommunCode: k.Code, Housing: h, Sex: s, AgeBand: a, Count: count})
				}
			}
		}
	}
	return snapshot(t, date, cells)
}

func snapshot(t *testing.T, date string, cells []domain.Cell) (domain.Snapshot, []domain.Cell) {
	t.Helper()
	snap, err := domain.NewSnapshot(date, cells)
	if err != nil {
		t.Fatal(err)
	}
	snap.ImportTime = time.Date(2026, 4, 2, 9, 30, 0, 123456789, time.UTC)
	return snap, cells
}

func query(t *testing.T, s testStore, q domain.Query) []domain.Row {
	t.Helper()
	rows, err := s.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

var allDims = []domain.Dimension{domain.DimLan, domain.DimKommun, domain.DimHousing, domain.DimSex, domain.DimAgeBand}

func TestReplace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		if _, err := s.Get(ctx, "2026-03-31"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get before import: %v", err)
		}

		snap, cells := grid(t, "2026-03-31", 0)
		start := time.Now()
		if err := s.Replace(ctx, snap, cells); err != nil {
			t.Fatal(err)
		}
		t.Logf("imported %d cells in %v", len(cells), time.Since(start))
		got, err := s.Get(ctx, "2026-03-31")
		if err != nil {
			t.Fatal(err)
		}
		if got != snap {
			t.Fatalf("Get = %+v, want %+v", got, snap)
		}
		if rows := query(t, s, domain.Query{ReferenceDate: "2026-03-31"}); domain.Total(rows) != snap.Total {
			t.Fatalf("cells sum to %d, header says %d", domain.Total(rows), snap.Total)
		}

		// Importing the date again replaces everything: no old cell survives.
		again, fewer := snapshot(t, "2026-03-31", []domain.Cell{
			{KommunCode: "2584", Housing: domain.HousingEBO, Sex: domain.SexMan, AgeBand: domain.Age25to34, Count: 7},
			{KommunCode: "0180", Housing: domain.HousingABE, Sex: domain.SexKvinna, AgeBand: domain.Age18to24, Count: 5},
		})
		again.ImportTime = again.ImportTime.Add(time.Hour)
		if err := s.Replace(ctx, again, fewer); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "2026-03-31"); got != again {
			t.Fatalf("after re-import Get = %+v, want %+v", got, again)
		}
		rows := query(t, s, domain.Query{ReferenceDate: "2026-03-31", GroupBy: allDims})
		want := []domain.Row{
			{LanCode: "01", KommunCode: "0180", Housing: domain.HousingABE, Sex: domain.SexKvinna, AgeBand: domain.Age18to24, Count: 5},
			{LanCode: "25", KommunCode: "2584", Housing: domain.HousingEBO, Sex: domain.SexMan, AgeBand: domain.Age25to34, Count: 7},
		}
		if !slices.Equal(rows, want) {
			t.Fatalf("rows after re-import = %+v", rows)
		}

		// Another date is a separate snapshot.
		other, otherCells := grid(t, "2026-06-30", 3)
		if err := s.Replace(ctx, other, otherCells); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "2026-03-31"); got != again {
			t.Fatalf("importing another date changed this one: %+v", got)
		}
	})
}

func TestFailedReimportLeavesPrevious(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		snap, cells := grid(t, "2026-03-31", 0)
		if err := s.Replace(ctx, snap, cells); err != nil {
			t.Fatal(err)
		}
		before := query(t, s, domain.Query{ReferenceDate: "2026-03-31", GroupBy: allDims})

		// A cell repeated in the third batch passes nothing that checks it
		// here, so the database fails the import after the header has been
		// updated, the old cells deleted and two batches inserted.
		_, bad := grid(t, "2026-03-31", 5)
		bad[1200] = bad[3]
		failed := snap
		failed.Total, failed.CellCount, failed.ImportTime = 1, 1, snap.ImportTime.Add(time.Hour)
		if err := s.Replace(ctx, failed, bad); !db.IsUniqueViolation(err) {
			t.Fatalf("import with a repeated cell: err = %v, want a unique violation", err)
		}

		if got, err := s.Get(ctx, "2026-03-31"); err != nil || got != snap {
			t.Fatalf("after failed import Get = %+v, %v; want %+v", got, err, snap)
		}
		if after := query(t, s, domain.Query{ReferenceDate: "2026-03-31", GroupBy: allDims}); !slices.Equal(after, before) {
			t.Fatalf("cells changed: %d rows before, %d after", len(before), len(after))
		}

		// A failed first import leaves no snapshot at all.
		first, firstCells := snapshot(t, "2026-06-30", []domain.Cell{
			{KommunCode: "0180", Housing: domain.HousingABE, Sex: domain.SexKvinna, AgeBand: domain.Age18to24, Count: 5},
		})
		firstCells = append(firstCells, firstCells[0])
		if err := s.Replace(ctx, first, firstCells); err == nil {
			t.Fatal("import with a repeated cell succeeded")
		}
		if _, err := s.Get(ctx, "2026-06-30"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("failed first import left a snapshot: %v", err)
		}
	})
}

func TestQuery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		snap, cells := grid(t, "2026-03-31", 0)
		if err := s.Replace(context.Background(), snap, cells); err != nil {
			t.Fatal(err)
		}
		q := func(q domain.Query) []domain.Row {
			q.ReferenceDate = "2026-03-31"
			return query(t, s, q)
		}

		// The grand total is one row with no dimension set.
		total := q(domain.Query{})
		if len(total) != 1 || total[0] != (domain.Row{Count: snap.Total}) {
			t.Fatalf("grand total = %+v, want %d", total, snap.Total)
		}

		// Län totals add up to the national total, and each län total is
		// the sum of its kommuner, whether the kommuner are picked by län
		// filter or by listing their codes.
		byLan := q(domain.Query{GroupBy: []domain.Dimension{domain.DimLan}})
		if len(byLan) != len(refdata.Lans()) || domain.Total(byLan) != snap.Total {
			t.Fatalf("%d län rows summing to %d; want %d summing to %d", len(byLan), domain.Total(byLan), len(refdata.Lans()), snap.Total)
		}
		for _, l := range byLan {
			if l.KommunCode != "" || l.Housing != "" || l.Sex != "" || l.AgeBand != "" {
				t.Fatalf("ungrouped dimensions set: %+v", l)
			}
			kommuner := q(domain.Query{LanCodes: []string{l.LanCode}, GroupBy: []domain.Dimension{domain.DimKommun}})
			if domain.Total(kommuner) != l.Count {
				t.Errorf("län %s: kommuner sum to %d, län row says %d", l.LanCode, domain.Total(kommuner), l.Count)
			}
			var codes []string
			for _, k := range refdata.KommunerIn(l.LanCode) {
				codes = append(codes, k.Code)
			}
			if got := q(domain.Query{KommunCodes: codes}); got[0].Count != l.Count {
				t.Errorf("län %s: by kommun codes %d, want %d", l.LanCode, got[0].Count, l.Count)
			}
		}

		// The expected sums, computed from the cells themselves.
		sum := func(keep func(domain.Cell) bool) int64 {
			var n int64
			for _, c := range cells {
				if keep(c) {
					n += c.Count
				}
			}
			return n
		}
		bySex := q(domain.Query{LanCodes: []string{"01", "25"}, GroupBy: []domain.Dimension{domain.DimSex}})
		for _, r := range bySex {
			want := sum(func(c domain.Cell) bool { return (c.LanCode == "01" || c.LanCode == "25") && c.Sex == r.Sex })
			if r.Count != want {
				t.Errorf("sex %s in 01+25 = %d, want %d", r.Sex, r.Count, want)
			}
		}
		if len(bySex) != 2 || bySex[0].Sex != domain.SexKvinna || bySex[1].Sex != domain.SexMan {
			t.Fatalf("rows not one per sex in order: %+v", bySex)
		}

		// Both filters together keep cells matching both: a kommun outside
		// the län gives nothing.
		both := q(domain.Query{LanCodes: []string{"01"}, KommunCodes: []string{"0180", "2584"}, GroupBy: []domain.Dimension{domain.DimKommun}})
		if len(both) != 1 || both[0].KommunCode != "0180" || both[0].Count != sum(func(c domain.Cell) bool { return c.KommunCode == "0180" }) {
			t.Fatalf("län 01 and kommuner 0180, 2584 = %+v", both)
		}

		// Groups without people are left out; every full combination row
		// present has people and they add up.
		full := q(domain.Query{GroupBy: allDims})
		var zero int
		for _, c := range cells {
			if c.Count == 0 {
				zero++
			}
		}
		if len(full) != len(cells)-zero || domain.Total(full) != snap.Total {
			t.Fatalf("%d full rows summing to %d; want %d summing to %d", len(full), domain.Total(full), len(cells)-zero, snap.Total)
		}
		byAge := q(domain.Query{GroupBy: []domain.Dimension{domain.DimHousing, domain.DimAgeBand}})
		if len(byAge) != 18 || byAge[0].Housing != domain.HousingABE || byAge[0].AgeBand != domain.Age18to24 || byAge[17].AgeBand != domain.Age65Plus {
			t.Fatalf("housing × age rows = %+v", byAge)
		}

		// An unknown date has no cells.
		if got := query(t, s, domain.Query{ReferenceDate: "2020-01-01"}); got[0].Count != 0 {
			t.Fatalf("unknown date total = %+v", got)
		}
	})
}

// TestCellsRebuildKeepsCells: migration 4 rebuilds snapshot_cells (without
// the row-by-row foreign key and the unused län index) and keeps every cell
// imported before it, key included; going down restores the checked table
// with the same cells.
func TestCellsRebuildKeepsCells(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		d := dbtest.Open(t, dsn)
		dialect := goose.DialectSQLite3
		if db.Dialect(d) == db.DialectPostgres {
			dialect = goose.DialectPostgres
		}
		p, err := goose.NewProvider(dialect, d.DB, store.Migrations, goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.UpTo(ctx, 3); err != nil {
			t.Fatal(err)
		}
		mustExec := func(q string, args ...any) {
			t.Helper()
			if _, err := d.ExecContext(ctx, d.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		mustExec("INSERT INTO snapshots (reference_date, cell_count, total, import_time) VALUES (?, 2, 12, ?)", "2016-12-31", "2017-01-05T08:00:00Z")
		mustExec("INSERT INTO snapshot_cells (reference_date, kommun_code, lan_code, housing_type, sex, age_band, adults, cell_key) VALUES "+
			"(?, '0180', '01', 'ABE', 'kvinna', '18-24', 5, 17), (?, '2584', '25', 'EBO', 'man', '65+', 7, NULL)", "2016-12-31", "2016-12-31")
		want := cells(t, ctx, d)

		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if got := cells(t, ctx, d); got != want {
			t.Fatalf("after the rebuild: %s, want %s", got, want)
		}
		// The store reads them as before: the cell without a key is still
		// one to be given a key once.
		if _, _, _, err := store.New(d).LoadGrid(ctx, "2016-12-31"); !errors.Is(err, store.ErrKeysMissing) {
			t.Fatalf("LoadGrid after the rebuild: %v, want ErrKeysMissing", err)
		}

		if _, err := p.DownTo(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if got := cells(t, ctx, d); got != want {
			t.Fatalf("after going down: %s, want %s", got, want)
		}
	})
}

// cells is the table's content as one comparable string.
func cells(t *testing.T, ctx context.Context, d interface {
	SelectContext(context.Context, any, string, ...any) error
}) string {
	t.Helper()
	var rows []string
	if err := d.SelectContext(ctx, &rows, "SELECT reference_date || '/' || kommun_code || '/' || lan_code || '/' || housing_type || '/' || sex || '/' || age_band || '=' || "+
		"CAST(adults AS TEXT) || '#' || COALESCE(CAST(cell_key AS TEXT), '-') FROM snapshot_cells ORDER BY kommun_code"); err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, r := range rows {
		out += r + ";"
	}
	return out
}
