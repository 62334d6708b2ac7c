package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/records"
)

// KommunTotal is adults of the target group in one kommun.
type KommunTotal struct {
	KommunCode, LanCode string
	Adults              int64
}

// Route is an approved travel route kept from the travel service.
type Route struct {
	Name, FromKommun, FromLan, ToKommun, ValidFrom, ValidTo string
}

// PutSnapshot keeps a snapshot's totals, replacing an earlier copy of the
// same snapshot. It runs in the consumer's transaction, so a redelivered
// event changes nothing.
func PutSnapshot(ctx context.Context, tx *sqlx.Tx, referenceDate, publishTime string, totals []KommunTotal) error {
	return snapshotTables.put(ctx, tx, referenceDate, totals, "publish_time", publishTime)
}

// PutProjection keeps a projection's totals, replacing an earlier one for
// the same date.
func PutProjection(ctx context.Context, tx *sqlx.Tx, projectionDate, snapshot, publishTime string, totals []KommunTotal) error {
	return projectionTables.put(ctx, tx, projectionDate, totals, "snapshot, publish_time", snapshot, publishTime)
}

// totalsTables are the tables of one kind of kept totals: a header row and
// one row a kommun, both keyed by a date.
type totalsTables struct {
	header, totals, date string
	// what and item name the header and a kommun's row in errors.
	what, item string
}

var (
	snapshotTables   = totalsTables{header: "snapshots", totals: "target_group", date: "reference_date", what: "snapshot", item: "target group"}
	projectionTables = totalsTables{header: "projections", totals: "projection_totals", date: "projection_date", what: "projection", item: "projection total"}
)

// put replaces what is kept for date with a header of the other columns
// (and their values) and totals.
func (t totalsTables) put(ctx context.Context, tx *sqlx.Tx, date string, totals []KommunTotal, columns string, values ...any) error {
	for _, table := range []string{t.totals, t.header} {
		if err := records.Exec(ctx, tx, "replace "+t.what, "DELETE FROM "+table+" WHERE "+t.date+" = ?", date); err != nil {
			return err
		}
	}
	if err := records.Exec(ctx, tx, "insert "+t.what, "INSERT INTO "+t.header+" ("+t.date+", "+columns+") VALUES (?"+
		strings.Repeat(", ?", len(values))+")", append([]any{date}, values...)...); err != nil {
		return err
	}
	for _, k := range totals {
		if err := records.Exec(ctx, tx, "insert "+t.item, "INSERT INTO "+t.totals+" ("+t.date+", kommun_code, lan_code, adults) VALUES (?, ?, ?, ?)",
			date, k.KommunCode, k.LanCode, k.Adults); err != nil {
			return err
		}
	}
	return nil
}

// PutRoute keeps (or replaces) an approved route. A route covers travel in
// both directions, so it is kept as two legs.
func PutRoute(ctx context.Context, tx *sqlx.Tx, r Route) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM routes WHERE name = ?"), r.Name); err != nil {
		return fmt.Errorf("replace route: %w", err)
	}
	legs := [][3]string{{r.FromKommun, r.FromLan, r.ToKommun}}
	if r.ToKommun != r.FromKommun {
		legs = append(legs, [3]string{r.ToKommun, lanOf(r.ToKommun), r.FromKommun})
	}
	for _, leg := range legs {
		if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO routes (name, from_kommun, from_lan, to_kommun, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?)"),
			r.Name, leg[0], leg[1], leg[2], r.ValidFrom, r.ValidTo); err != nil {
			return fmt.Errorf("insert route: %w", err)
		}
	}
	return nil
}

// lanOf is the län of a kommun: the first two digits of its SCB code.
func lanOf(kommun string) string {
	if len(kommun) < 2 {
		return ""
	}
	return kommun[:2]
}

// RevokeRoute ends a route: lastDay is its last approved day.
func RevokeRoute(ctx context.Context, tx *sqlx.Tx, name, lastDay string) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE routes SET valid_to = ? WHERE name = ? AND valid_to > ?"), lastDay, name, lastDay); err != nil {
		return fmt.Errorf("revoke route: %w", err)
	}
	return nil
}
