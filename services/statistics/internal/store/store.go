// Package store keeps the statistics service's snapshots in its own database
// through sqlx. Queries are written with ? placeholders and rebound for the
// driver, so the same code runs on PostgreSQL and SQLite.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/records"
	"github.com/tia-platform/tia/services/statistics/internal/ckm"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the service's tables, applied at start.
var Migrations = db.Embedded(migrations, "migrations")

// ErrNotFound is returned for a snapshot or planned change that does not
// exist. It is the platform's kind, so the service's error table maps it.
var ErrNotFound = apierr.ErrNotFound

// Store reads snapshots and planned changes. Writes are functions of the
// caller's transaction (its unit of work, package uow), which also carries
// the events: the store never publishes or calls back.
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
const cellColumns = "reference_date, kommun_code, lan_code, housing_type, sex, age_band, adults, cell_key"

// insertBatch is the number of cells per INSERT. Eight parameters a row keeps
// a batch (4,000 parameters) well below both SQLite's limit of 32,766 bound
// parameters and PostgreSQL's of 65,535, while a full snapshot of about 10,000
// cells still needs only some twenty round trips.
const insertBatch = 500

// Replace stores snap with cells as the whole content of its reference
// date, in tx (the caller's unit of work, which also carries the events):
// the header is written, the date's old cells deleted and the new ones
// inserted. If the unit fails, the previous snapshot stays exactly as it
// was. The cells must have passed domain.NewSnapshot. It reports whether an
// earlier import of the date was replaced.
func Replace(ctx context.Context, tx *sqlx.Tx, snap domain.Snapshot, cells []domain.Cell) (bool, error) {
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM snapshots WHERE reference_date = ?"), snap.ReferenceDate); err != nil {
		return false, fmt.Errorf("look for snapshot: %w", err)
	}
	// The header goes first: the cells refer to it, and on PostgreSQL its
	// row lock makes a second import of the same date wait for this one to
	// commit instead of interleaving with it. (SQLite lets one writer in at
	// a time anyway.)
	_, err := tx.ExecContext(ctx, tx.Rebind(
		"INSERT INTO snapshots (reference_date, cell_count, total, import_time) VALUES (?, ?, ?, ?) "+
			"ON CONFLICT (reference_date) DO UPDATE SET "+
			"cell_count = excluded.cell_count, total = excluded.total, import_time = excluded.import_time"),
		snap.ReferenceDate, snap.CellCount, snap.Total, snap.ImportTime.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return false, fmt.Errorf("upsert snapshot: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM snapshot_cells WHERE reference_date = ?"), snap.ReferenceDate); err != nil {
		return false, fmt.Errorf("delete old cells: %w", err)
	}
	if db.Dialect(tx) == db.DialectPostgres {
		return n > 0, insertCellArrays(ctx, tx, snap.ReferenceDate, cells)
	}
	for start := 0; start < len(cells); start += insertBatch {
		batch := cells[start:min(start+insertBatch, len(cells))]
		args := make([]any, 0, len(batch)*8)
		for _, c := range batch {
			args = append(args, snap.ReferenceDate, c.KommunCode, c.LanCode, string(c.Housing), string(c.Sex), string(c.AgeBand), c.Count, int64(c.Key))
		}
		q := "INSERT INTO snapshot_cells (" + cellColumns + ") VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", len(batch)), ", ")
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			return false, fmt.Errorf("insert cells %d–%d: %w", start, start+len(batch)-1, err)
		}
	}
	return n > 0, nil
}

// insertCellArrays inserts cells on PostgreSQL in one statement that takes
// each column as one array parameter: a few arrays are bound and sent
// faster than hundreds of thousands of single parameters.
func insertCellArrays(ctx context.Context, tx *sqlx.Tx, referenceDate string, cells []domain.Cell) error {
	var (
		kommun, lan, housing, sex, age = make([]string, len(cells)), make([]string, len(cells)), make([]string, len(cells)), make([]string, len(cells)), make([]string, len(cells))
		count, key                     = make([]int64, len(cells)), make([]int64, len(cells))
	)
	for i, c := range cells {
		kommun[i], lan[i], housing[i], sex[i], age[i] = c.KommunCode, c.LanCode, string(c.Housing), string(c.Sex), string(c.AgeBand)
		count[i], key[i] = c.Count, int64(c.Key)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO snapshot_cells ("+cellColumns+") SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])",
		referenceDate, kommun, lan, housing, sex, age, count, key); err != nil {
		return fmt.Errorf("insert %d cells: %w", len(cells), err)
	}
	return nil
}

// List returns every snapshot's summary, newest first.
func (s *Store) List(ctx context.Context) ([]domain.Snapshot, error) {
	return records.AllAs(ctx, s.db, "list snapshots", snapshotRow.snapshot,
		"SELECT reference_date, cell_count, total, import_time FROM snapshots ORDER BY reference_date DESC")
}

type cellRow struct {
	KommunCode string `db:"kommun_code"`
	Housing    string `db:"housing_type"`
	Sex        string `db:"sex"`
	AgeBand    string `db:"age_band"`
	Adults     int64  `db:"adults"`
	Key        *int64 `db:"cell_key"`
}

// ErrKeysMissing is LoadGrid's answer for a snapshot imported before cell
// keys existed: DrawMissingKeys (in a unit of work) gives them keys once.
var ErrKeysMissing = errors.New("cells without a cell key")

// LoadGrid reads the whole snapshot of referenceDate with its cell keys. The
// summary and the cells are read apart, so it checks that the summary did
// not change in between (an import of the same date committing) and reads
// again if it did: the grid returned always belongs to the summary returned.
func (s *Store) LoadGrid(ctx context.Context, referenceDate string) (domain.Snapshot, domain.Grid, domain.Keys, error) {
	for {
		before, err := s.Get(ctx, referenceDate)
		if err != nil {
			return domain.Snapshot{}, nil, nil, err
		}
		var rows []cellRow
		if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(
			"SELECT kommun_code, housing_type, sex, age_band, adults, cell_key FROM snapshot_cells WHERE reference_date = ?"), referenceDate); err != nil {
			return domain.Snapshot{}, nil, nil, fmt.Errorf("load cells: %w", err)
		}
		after, err := s.Get(ctx, referenceDate)
		if err != nil {
			return domain.Snapshot{}, nil, nil, err
		}
		if !after.ImportTime.Equal(before.ImportTime) {
			continue
		}
		if slices.ContainsFunc(rows, func(r cellRow) bool { return r.Key == nil }) {
			return domain.Snapshot{}, nil, nil, ErrKeysMissing
		}
		g, keys := domain.NewGrid(), domain.NewKeys()
		for _, r := range rows {
			c := domain.Cell{KommunCode: r.KommunCode, Housing: domain.HousingType(r.Housing), Sex: domain.Sex(r.Sex),
				AgeBand: domain.AgeBand(r.AgeBand), Count: r.Adults, Key: ckm.Key(*r.Key)}
			g.Add(c)
			keys.SetKey(c)
		}
		return after, g, keys, nil
	}
}

// DrawMissingKeys gives the cells of referenceDate imported before cell
// keys existed a key each, once, in tx: a random one, which stands for the
// sum of their people's record keys as for a pre-aggregated import. A cell
// that has a key keeps it, whoever drew it, so every replica publishes the
// same figures.
func DrawMissingKeys(ctx context.Context, tx *sqlx.Tx, referenceDate string) error {
	var rows []cellRow
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(
		"SELECT kommun_code, housing_type, sex, age_band, adults, cell_key FROM snapshot_cells WHERE reference_date = ? AND cell_key IS NULL"), referenceDate); err != nil {
		return fmt.Errorf("load cells without a key: %w", err)
	}
	src := ckm.NewKeySource()
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, tx.Rebind(
			"UPDATE snapshot_cells SET cell_key = ? WHERE reference_date = ? AND kommun_code = ? AND housing_type = ? AND sex = ? AND age_band = ? AND cell_key IS NULL"),
			int64(src.RandomKey(r.Adults)), referenceDate, r.KommunCode, r.Housing, r.Sex, r.AgeBand); err != nil {
			return fmt.Errorf("draw cell key: %w", err)
		}
	}
	return nil
}

type changeRow struct {
	ID            string `db:"id"`
	KommunCode    string `db:"kommun_code"`
	LanCode       string `db:"lan_code"`
	Housing       string `db:"housing_type"`
	EffectiveDate string `db:"effective_date"`
	AdultsDelta   int64  `db:"adults_delta"`
	Description   string `db:"description"`
	CreateTime    string `db:"create_time"`
}

// CreateChange stores a planned change in tx.
func CreateChange(ctx context.Context, tx *sqlx.Tx, c domain.PlannedChange) error {
	return records.Exec(ctx, tx, "insert planned change",
		"INSERT INTO planned_changes (id, kommun_code, lan_code, housing_type, effective_date, adults_delta, description, create_time) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.KommunCode, c.LanCode, string(c.Housing), c.EffectiveDate, c.AdultsDelta, c.Description,
		c.CreateTime.UTC().Format(time.RFC3339Nano))
}

// DeleteChange removes the planned change id in tx and returns it;
// ErrNotFound when there is none.
func DeleteChange(ctx context.Context, tx *sqlx.Tx, id string) (domain.PlannedChange, error) {
	c, err := records.OneAs(ctx, tx, "planned change", changeRow.change, "SELECT * FROM planned_changes WHERE id = ?", id)
	if err != nil {
		return domain.PlannedChange{}, err
	}
	if err := records.Exec(ctx, tx, "delete planned change", "DELETE FROM planned_changes WHERE id = ?", id); err != nil {
		return domain.PlannedChange{}, err
	}
	return c, nil
}

// Changes lists the planned changes in the given län (all when empty), by
// effective date.
func (s *Store) Changes(ctx context.Context, lanCodes []string) ([]domain.PlannedChange, error) {
	where, args := in([]string{"1 = 1"}, nil, "lan_code", lanCodes)
	return records.AllAs(ctx, s.db, "list planned changes", changeRow.change,
		"SELECT * FROM planned_changes WHERE "+strings.Join(where, " AND ")+" ORDER BY effective_date, id", args...)
}

func (r changeRow) change() domain.PlannedChange {
	created, _ := time.Parse(time.RFC3339Nano, r.CreateTime)
	return domain.PlannedChange{
		ID: r.ID, KommunCode: r.KommunCode, LanCode: r.LanCode, Housing: domain.HousingType(r.Housing),
		EffectiveDate: r.EffectiveDate, AdultsDelta: r.AdultsDelta, Description: r.Description, CreateTime: created,
	}
}

// Get returns the summary of the snapshot on referenceDate.
func (s *Store) Get(ctx context.Context, referenceDate string) (domain.Snapshot, error) {
	return records.OneAs(ctx, s.db, "snapshot", snapshotRow.snapshot,
		"SELECT reference_date, cell_count, total, import_time FROM snapshots WHERE reference_date = ?", referenceDate)
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
