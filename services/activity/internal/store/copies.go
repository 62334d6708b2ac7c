package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
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
	for _, q := range []string{"DELETE FROM target_group WHERE reference_date = ?", "DELETE FROM snapshots WHERE reference_date = ?"} {
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), referenceDate); err != nil {
			return fmt.Errorf("replace snapshot: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO snapshots (reference_date, publish_time) VALUES (?, ?)"), referenceDate, publishTime); err != nil {
		return fmt.Errorf("insert snapshot: %w", err)
	}
	for _, t := range totals {
		if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO target_group (reference_date, kommun_code, lan_code, adults) VALUES (?, ?, ?, ?)"),
			referenceDate, t.KommunCode, t.LanCode, t.Adults); err != nil {
			return fmt.Errorf("insert target group: %w", err)
		}
	}
	return nil
}

// PutProjection keeps a projection's totals, replacing an earlier one for
// the same date.
func PutProjection(ctx context.Context, tx *sqlx.Tx, projectionDate, snapshot, publishTime string, totals []KommunTotal) error {
	for _, q := range []string{"DELETE FROM projection_totals WHERE projection_date = ?", "DELETE FROM projections WHERE projection_date = ?"} {
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), projectionDate); err != nil {
			return fmt.Errorf("replace projection: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO projections (projection_date, snapshot, publish_time) VALUES (?, ?, ?)"),
		projectionDate, snapshot, publishTime); err != nil {
		return fmt.Errorf("insert projection: %w", err)
	}
	for _, t := range totals {
		if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO projection_totals (projection_date, kommun_code, lan_code, adults) VALUES (?, ?, ?, ?)"),
			projectionDate, t.KommunCode, t.LanCode, t.Adults); err != nil {
			return fmt.Errorf("insert projection total: %w", err)
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
