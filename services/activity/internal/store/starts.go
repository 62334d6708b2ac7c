package store

import (
	"context"
	"fmt"

	"github.com/tia-platform/tia/services/activity/internal/domain"
)

// DueStarts returns the activities that start on or before today, have not
// ended, were registered before their first day (an activity registered
// while already ongoing was announced by its registration), and whose start
// has not been announced yet.
func (s *Store) DueStarts(ctx context.Context, today string) ([]domain.Activity, error) {
	var rows []row
	q := "SELECT " + columns + " FROM activities WHERE started_announced = 0 AND start_date <= ? AND end_date >= ? " +
		"AND SUBSTR(create_time, 1, 10) < start_date ORDER BY start_date, org_number, id"
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), today, today); err != nil {
		return nil, fmt.Errorf("due starts: %w", err)
	}
	out := make([]domain.Activity, len(rows))
	for i, r := range rows {
		out[i] = r.activity()
	}
	return out, nil
}

// ClaimStart marks the start of an activity as announced within tx, if no
// one has done so before; it reports whether it did.
func ClaimStart(ctx context.Context, tx Tx, org, id string) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE activities SET started_announced = 1 WHERE org_number = ? AND id = ? AND started_announced = 0"), org, id)
	if err != nil {
		return false, fmt.Errorf("claim start: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
