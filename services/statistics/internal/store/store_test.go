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

// rows sums the stored grid of date as q asks.
func rows(t *testing.T, s testStore, date string, q domain.Query) []domain.Row {
	t.Helper()
	_, g, _, err := s.LoadGrid(context.Background(), date)
	if err != nil {
		t.Fatal(err)
	}
	return g.Sum(q)
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
		if total := domain.Total(rows(t, s, "2026-03-31", domain.Query{})); total != snap.Total {
			t.Fatalf("cells sum to %d, header says %d", total, snap.Total)
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
		stored := rows(t, s, "2026-03-31", domain.Query{GroupBy: allDims})
		want := []domain.Row{
			{LanCode: "01", KommunCode: "0180", Housing: domain.HousingABE, Sex: domain.SexKvinna, AgeBand: domain.Age18to24, Count: 5},
			{LanCode: "25", KommunCode: "2584", Housing: domain.HousingEBO, Sex: domain.SexMan, AgeBand: domain.Age25to34, Count: 7},
		}
		if !slices.Equal(stored, want) {
			t.Fatalf("rows after re-import = %+v", stored)
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
		before := rows(t, s, "2026-03-31", domain.Query{GroupBy: allDims})

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
		if after := rows(t, s, "2026-03-31", domain.Query{GroupBy: allDims}); !slices.Equal(after, before) {
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
