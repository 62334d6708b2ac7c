package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/records"
	"github.com/tia-platform/tia/services/travel/internal/domain"
)

// AcquireLease takes the lease of the job name for holder until until,
// unless another holder's lease is still running at now. It reports whether
// holder holds it, and when the job last completed. Replicas that share the
// database thereby run a scheduled job once between them.
func AcquireLease(ctx context.Context, tx *sqlx.Tx, name, holder string, now, until time.Time) (held bool, lastRun time.Time, err error) {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO job_leases (name, holder, until, last_run) VALUES (?, '', ?, '')
		ON CONFLICT (name) DO NOTHING`), name, fmtTime(time.Time{}.Add(1))); err != nil {
		return false, time.Time{}, fmt.Errorf("lease row: %w", err)
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE job_leases SET holder = ?, until = ? WHERE name = ? AND (holder = ? OR until < ?)`),
		holder, fmtTime(until), name, holder, fmtTime(now))
	if err != nil {
		return false, time.Time{}, fmt.Errorf("take lease: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, time.Time{}, nil
	}
	var last string
	if err := tx.GetContext(ctx, &last, tx.Rebind("SELECT last_run FROM job_leases WHERE name = ?"), name); err != nil {
		return false, time.Time{}, fmt.Errorf("read lease: %w", err)
	}
	return true, parseTime(last), nil
}

// FinishLease records that holder completed the job name at now and lets
// the lease go.
func FinishLease(ctx context.Context, tx *sqlx.Tx, name, holder string, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE job_leases SET last_run = ?, until = ? WHERE name = ? AND holder = ?`),
		fmtTime(now), fmtTime(now), name, holder)
	if err != nil {
		return fmt.Errorf("finish lease: %w", err)
	}
	return nil
}

// ExpiredClaims returns up to limit claims submitted before cutoff that
// still carry a dossier number and are finished (paid or rejected): those
// the retention job anonymises. Claims still open are kept until decided.
func ExpiredClaims(ctx context.Context, tx *sqlx.Tx, cutoff time.Time, limit int) ([]domain.Claim, error) {
	return records.AllAs(ctx, tx, "expired claims", claimRow.claim, "SELECT "+claimColumns+
		" FROM claims WHERE submit_time < ? AND dossier <> '' AND state IN (?, ?) ORDER BY submit_time, id LIMIT ?",
		fmtTime(cutoff), domain.StatePaid, domain.StateRejected, limit)
}

// AnonymiseClaim removes the dossier number of claim id (and the request id,
// which is scoped by it) within tx. The claim keeps what the reports and
// bookkeeping need: trip, route, cost, state and times.
func AnonymiseClaim(ctx context.Context, tx *sqlx.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE claims SET dossier = '', request_id = '' WHERE id = ?"), id); err != nil {
		return fmt.Errorf("anonymise claim: %w", err)
	}
	return nil
}

// AnonymiseParticipationEnds removes the dossier numbers of ended
// participations that no claim with a dossier number refers to any more.
func AnonymiseParticipationEnds(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE participation_ends SET dossier = '' WHERE dossier <> ''
		AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.certificate = participation_ends.certificate AND c.dossier <> '')`)
	if err != nil {
		return fmt.Errorf("anonymise participation ends: %w", err)
	}
	return nil
}
