package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/statistics/internal/store"
)

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
