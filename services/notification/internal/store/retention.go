package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/records"
)

// AcquireJob takes the lease of a scheduled job for holder when the job is
// due (its last run ended interval or more before now) and no other holder
// has a lease that has not expired: across replicas, one runs it. acquired
// says whether holder now holds it, until now+lease.
func (s *Store) AcquireJob(ctx context.Context, name, holder string, now time.Time, interval, lease time.Duration) (acquired bool, err error) {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind("INSERT INTO jobs (name, holder, lease_until, last_run) VALUES (?, '', 0, 0) ON CONFLICT DO NOTHING"), name); err != nil {
		return false, fmt.Errorf("job %s: %w", name, err)
	}
	// One statement decides: of two replicas, the second finds the lease
	// taken (PostgreSQL re-checks the row after the first commits; SQLite
	// has one writer).
	res, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE jobs SET holder = ?, lease_until = ? WHERE name = ? AND lease_until < ? AND last_run <= ?"),
		holder, now.Add(lease).UnixMilli(), name, now.UnixMilli(), now.Add(-interval).UnixMilli())
	if err != nil {
		return false, fmt.Errorf("job %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("job %s: %w", name, err)
	}
	return n == 1, nil
}

// FinishJob records a run that holder ended at now and gives up its lease.
func (s *Store) FinishJob(ctx context.Context, name, holder string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE jobs SET lease_until = 0, last_run = ? WHERE name = ? AND holder = ?"), now.UnixMilli(), name, holder)
	if err != nil {
		return fmt.Errorf("job %s: %w", name, err)
	}
	return nil
}

// MessageKey names one message.
type MessageKey struct {
	Recipient string `db:"recipient"`
	ID        string `db:"id"`
}

// ExpiredMessages lists up to limit messages of recipients starting with
// prefix (a constant without LIKE wildcards) that were put in the inbox
// before cutoff, within tx.
func ExpiredMessages(ctx context.Context, tx Tx, prefix string, cutoff time.Time, limit int) ([]MessageKey, error) {
	return records.All[MessageKey](ctx, tx, "expired messages", "SELECT recipient, id FROM messages WHERE recipient LIKE ? AND create_time < ? ORDER BY create_time LIMIT ?",
		prefix+"%", cutoff.UTC().Format(time.RFC3339Nano), limit)
}

// DeleteMessages deletes messages with their deliveries, within tx.
func DeleteMessages(ctx context.Context, tx Tx, keys []MessageKey) error {
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM deliveries WHERE recipient = ? AND message_id = ?"), k.Recipient, k.ID); err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM messages WHERE recipient = ? AND id = ?"), k.Recipient, k.ID); err != nil {
			return fmt.Errorf("delete message: %w", err)
		}
	}
	return nil
}

// DeleteFinishedDeliveries deletes up to limit delivered and dead-lettered
// deliveries made before cutoff; pending ones stay whatever their age.
func (s *Store) DeleteFinishedDeliveries(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	var ids []string
	err := s.db.SelectContext(ctx, &ids, s.db.Rebind("SELECT id FROM deliveries WHERE state IN (?, ?) AND create_time < ? ORDER BY create_time LIMIT ?"),
		StateDelivered, StateDeadLettered, cutoff.UTC().Format(time.RFC3339Nano), limit)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	q, args, err := sqlx.In("DELETE FROM deliveries WHERE id IN (?)", ids)
	if err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return 0, fmt.Errorf("delete deliveries: %w", err)
	}
	return res.RowsAffected()
}
