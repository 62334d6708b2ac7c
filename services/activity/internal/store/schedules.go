package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tia-platform/tia/services/activity/internal/domain"
)

// Schedule is how often a län's county board gets Folkbildningsrådet's
// report.
type Schedule struct {
	LanCode    string           `db:"lan_code"`
	Frequency  domain.Frequency `db:"frequency"`
	UpdateTime string           `db:"update_time"`
}

// Schedules returns the schedules set, by län; län without one are monthly.
func (s *Store) Schedules(ctx context.Context) (map[string]Schedule, error) {
	var rows []Schedule
	if err := s.db.SelectContext(ctx, &rows, "SELECT lan_code, frequency, update_time FROM report_schedules"); err != nil {
		return nil, fmt.Errorf("report schedules: %w", err)
	}
	out := make(map[string]Schedule, len(rows))
	for _, r := range rows {
		out[r.LanCode] = r
	}
	return out, nil
}

// PutSchedule sets a län's schedule within tx.
func PutSchedule(ctx context.Context, tx Tx, lan string, f domain.Frequency, at time.Time) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM report_schedules WHERE lan_code = ?"), lan); err != nil {
		return fmt.Errorf("replace schedule: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO report_schedules (lan_code, frequency, update_time) VALUES (?, ?, ?)"),
		lan, string(f), formatTime(at)); err != nil {
		return fmt.Errorf("insert schedule: %w", err)
	}
	return nil
}

// ReportsSince returns the day the report scheduler first ran, recording
// today when it never has.
func (s *Store) ReportsSince(ctx context.Context, today string) (string, error) {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind("INSERT INTO registry_state (name, value) VALUES ('reports_since', ?) "+
		"ON CONFLICT (name) DO NOTHING"), today); err != nil {
		return "", fmt.Errorf("reports since: %w", err)
	}
	var since string
	if err := s.db.GetContext(ctx, &since, "SELECT value FROM registry_state WHERE name = 'reports_since'"); err != nil {
		return "", fmt.Errorf("reports since: %w", err)
	}
	return since, nil
}

// ClaimRun records within tx that the scheduled job name ran for key (a
// day); false when a replica already did, so each run happens once.
func ClaimRun(ctx context.Context, tx Tx, name, key string) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO registry_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"),
		name+":"+key, key)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", name, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
