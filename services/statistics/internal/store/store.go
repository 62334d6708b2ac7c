// Package store keeps the statistics service's snapshots in its own database
// through sqlx. Queries are written with ? placeholders and rebound for the
// driver, so the same code runs on PostgreSQL and SQLite.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the service's tables, applied at start.
var Migrations = mustSub(migrations, "migrations")

// ErrNotFound is returned for a snapshot that does not exist.
var ErrNotFound = errors.New("not found")

// Store reads and writes snapshots.
type Store struct{ db *sqlx.DB }

// New returns a store on a migrated database.
func New(d *sqlx.DB) *Store { return &Store{db: d} }

type snapshotRow struct {
	ReferenceDate string `db:"reference_date"`
	CellCount     int64  `db:"cell_count"`
	Total         int64  `db:"total"`
	ImportTime    string `db:"import_time"`
}

func (r snapshotRow) snapshot() domain.Snapshot {
	imported, _ := time.Parse(time.RFC3339Nano, r.ImportTime)
	return domain.Snapshot{ReferenceDate: r.ReferenceDate, CellCount: r.CellCount, Total: r.Total, ImportTime: imported}
}

// cellColumns are written by every insert, in this order.
const cellColumns = "reference_date, kommun_code, lan_code, housing_type, sex, age_band, adults"

// insertBatch is the number of cells per INSERT. Seven parameters a row keeps
// a batch (3,500 parameters) well below both SQLite's limit of 32,766 bound
// parameters and PostgreSQL's of 65,535, while a full snapshot of about 10,000
// cells still needs only some twenty round trips.
const insertBatch = 500

// Replace stores s with cells as the whole content of its reference date, in
// one transaction: the header is written, the date's old cells deleted and
// the new ones inserted. If anything fails, the previous snapshot stays
// exactly as it was. The cells must have passed domain.NewSnapshot.
func (s *Store) Replace(ctx context.Context, snap domain.Snapshot, cells []domain.Cell) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// The header goes first: the cells refer to it, and on PostgreSQL
		// its row lock makes a second import of the same date wait for this
		// one to commit instead of interleaving with it. (SQLite lets one
		// writer in at a time anyway.)
		_, err := tx.ExecContext(ctx, tx.Rebind(
			"INSERT INTO snapshots (reference_date, cell_count, total, import_time) VALUES (?, ?, ?, ?) "+
				"ON CONFLICT (reference_date) DO UPDATE SET "+
				"cell_count = excluded.cell_count, total = excluded.total, import_time = excluded.import_time"),
			snap.ReferenceDate, snap.CellCount, snap.Total, snap.ImportTime.UTC().Format(time.RFC3339Nano))
		if err != nil {
			return fmt.Errorf("upsert snapshot: %w", err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM snapshot_cells WHERE reference_date = ?"), snap.ReferenceDate); err != nil {
			return fmt.Errorf("delete old cells: %w", err)
		}
		for start := 0; start < len(cells); start += insertBatch {
			batch := cells[start:min(start+insertBatch, len(cells))]
			args := make([]any, 0, len(batch)*7)
			for _, c := range batch {
				args = append(args, snap.ReferenceDate, c.KommunCode, c.LanCode, string(c.Housing), string(c.Sex), string(c.AgeBand), c.Count)
			}
			q := "INSERT INTO snapshot_cells (" + cellColumns + ") VALUES " +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", len(batch)), ", ")
			if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
				return fmt.Errorf("insert cells %d–%d: %w", start, start+len(batch)-1, err)
			}
		}
		return nil
	})
}

// Get returns the summary of the snapshot on referenceDate.
func (s *Store) Get(ctx context.Context, referenceDate string) (domain.Snapshot, error) {
	var r snapshotRow
	err := s.db.GetContext(ctx, &r, s.db.Rebind(
		"SELECT reference_date, cell_count, total, import_time FROM snapshots WHERE reference_date = ?"), referenceDate)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Snapshot{}, ErrNotFound
	}
	if err != nil {
		return domain.Snapshot{}, fmt.Errorf("get snapshot: %w", err)
	}
	return r.snapshot(), nil
}

// dimensionColumns maps each dimension to its column, in the order rows are
// sorted. Only these fixed names ever reach the SQL text.
var dimensionColumns = []struct {
	dim    domain.Dimension
	column string
}{
	{domain.DimLan, "lan_code"},
	{domain.DimKommun, "kommun_code"},
	{domain.DimHousing, "housing_type"},
	{domain.DimSex, "sex"},
	{domain.DimAgeBand, "age_band"},
}

type queryRow struct {
	LanCode    string `db:"lan_code"`
	KommunCode string `db:"kommun_code"`
	Housing    string `db:"housing_type"`
	Sex        string `db:"sex"`
	AgeBand    string `db:"age_band"`
	Adults     int64  `db:"adults"`
}

// Query sums the cells of q.ReferenceDate matching q's filters, one row per
// group of q.GroupBy that has people, or one grand-total row when q groups by
// nothing. A date without a snapshot gives no groups (or a zero total); the
// caller checks that the snapshot exists.
func (s *Store) Query(ctx context.Context, q domain.Query) ([]domain.Row, error) {
	var selects, groups []string
	for _, dc := range dimensionColumns {
		if slices.Contains(q.GroupBy, dc.dim) {
			selects = append(selects, dc.column)
			groups = append(groups, dc.column)
		} else {
			// A constant keeps the row shape fixed, so one struct scans every
			// grouping.
			selects = append(selects, "'' AS "+dc.column)
		}
	}
	where := []string{"reference_date = ?"}
	args := []any{q.ReferenceDate}
	where, args = in(where, args, "lan_code", q.LanCodes)
	where, args = in(where, args, "kommun_code", q.KommunCodes)
	// SUM of a BIGINT is NUMERIC on PostgreSQL; the cast keeps it an integer
	// on both databases. COALESCE gives 0 rather than NULL for no cells.
	sqlText := "SELECT " + strings.Join(selects, ", ") + ", CAST(COALESCE(SUM(adults), 0) AS BIGINT) AS adults" +
		" FROM snapshot_cells WHERE " + strings.Join(where, " AND ")
	if len(groups) > 0 {
		g := strings.Join(groups, ", ")
		sqlText += " GROUP BY " + g + " HAVING SUM(adults) > 0 ORDER BY " + g
	}
	var rows []queryRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(sqlText), args...); err != nil {
		return nil, fmt.Errorf("query snapshot: %w", err)
	}
	out := make([]domain.Row, len(rows))
	for i, r := range rows {
		out[i] = domain.Row{
			LanCode: r.LanCode, KommunCode: r.KommunCode, Housing: domain.HousingType(r.Housing),
			Sex: domain.Sex(r.Sex), AgeBand: domain.AgeBand(r.AgeBand), Count: r.Adults,
		}
	}
	return out, nil
}

// in adds "column IN (?, ...)" with values as bind parameters, unless values
// is empty (no filter).
func in(where []string, args []any, column string, values []string) ([]string, []any) {
	if len(values) == 0 {
		return where, args
	}
	where = append(where, column+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")+")")
	for _, v := range values {
		args = append(args, v)
	}
	return where, args
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
