package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
	"github.com/tia-platform/tia/services/travel/internal/domain"
)

type runRow struct {
	ID           string `db:"id"`
	State        string `db:"state"`
	RequestID    string `db:"request_id"`
	ClaimCount   int64  `db:"claim_count"`
	TotalOre     int64  `db:"total_ore"`
	CreateTime   string `db:"create_time"`
	CompleteTime string `db:"complete_time"`
}

func (r runRow) run() domain.PaymentRun {
	return domain.PaymentRun{
		ID: r.ID, State: r.State, RequestID: r.RequestID, ClaimCount: r.ClaimCount, TotalOre: r.TotalOre,
		CreateTime: parseTime(r.CreateTime), CompleteTime: parseTime(r.CompleteTime),
	}
}

const runColumns = "id, state, request_id, claim_count, total_ore, create_time, complete_time"

// CreateRun starts run within tx. While another run is RUNNING, or a run
// with the same request id exists, it returns ErrExists.
func CreateRun(ctx context.Context, tx *sqlx.Tx, r domain.PaymentRun) error {
	_, err := tx.NamedExecContext(ctx, "INSERT INTO payment_runs ("+runColumns+
		") VALUES (:id, :state, :request_id, :claim_count, :total_ore, :create_time, :complete_time)", runRow{
		ID: r.ID, State: r.State, RequestID: r.RequestID, CreateTime: fmtTime(r.CreateTime),
	})
	return records.Inserted(err, ErrExists, "insert payment run")
}

// GetRun returns one run.
func (s *Store) GetRun(ctx context.Context, id string) (domain.PaymentRun, error) {
	return s.getRun(ctx, "id = ?", id)
}

// RunByRequest returns the run started with requestID.
func (s *Store) RunByRequest(ctx context.Context, requestID string) (domain.PaymentRun, error) {
	return s.getRun(ctx, "request_id = ?", requestID)
}

// RunningRuns returns the runs not yet completed.
func (s *Store) RunningRuns(ctx context.Context) ([]domain.PaymentRun, error) {
	return records.AllAs(ctx, s.db, "running payment runs", runRow.run, "SELECT "+runColumns+" FROM payment_runs WHERE state = ? ORDER BY id",
		domain.RunRunning)
}

func (s *Store) getRun(ctx context.Context, where string, args ...any) (domain.PaymentRun, error) {
	return records.OneAs(ctx, s.db, "payment run", runRow.run, "SELECT "+runColumns+" FROM payment_runs WHERE "+where, args...)
}

// ListRuns returns a page of runs, oldest first.
func (s *Store) ListRuns(ctx context.Context, page listing.Page) ([]domain.PaymentRun, error) {
	return records.AllAs(ctx, s.db, "list payment runs", runRow.run, "SELECT "+runColumns+" FROM payment_runs ORDER BY id LIMIT ? OFFSET ?",
		page.Limit(), page.Offset)
}

// Batch is what one PayBatch took: Taken claims read as approved (0 when
// none is left), the id of the last one (the cursor of the next batch), and
// those this batch paid with their payments (a claim paid before by another
// run is taken but not paid again; one changed meanwhile is taken but not
// paid).
type Batch struct {
	Taken    int
	Last     string
	Paid     []domain.Claim
	Payments []domain.Payment
}

// PayBatch pays up to n approved claims for run within tx: a payment row per
// claim (the primary key on claim_id makes a second payment of a claim
// impossible), the claims marked PAID and the run's totals. The caller adds
// the ClaimPaid events to the same unit of work, so a crash at any point
// leaves either the whole batch paid or none of it.
//
// after is a cursor: only claims with a greater id are taken (the dead
// index entries of claims paid by earlier batches are not scanned again).
func (s *Store) PayBatch(ctx context.Context, tx *sqlx.Tx, runID, after string, n int, now time.Time) (Batch, error) {
	paidTime := fmtTime(now)
	var b Batch
	var ids []string
	var rows []paidRow
	var err error
	if db.Dialect(s.db) == db.DialectPostgres {
		ids, rows, err = payBatchPostgres(ctx, tx, runID, after, n, paidTime)
	} else {
		ids, rows, err = payBatchPortable(ctx, tx, runID, after, n, paidTime)
	}
	if err != nil {
		return b, err
	}
	b.Taken = len(ids)
	if b.Taken == 0 {
		return b, nil
	}
	b.Last = ids[b.Taken-1]
	b.Paid, b.Payments = make([]domain.Claim, 0, len(rows)), make([]domain.Payment, 0, len(rows))
	var sum int64
	for _, r := range rows {
		if !r.Fresh {
			continue // paid before (by another run): not again
		}
		c := r.claim()
		c.State, c.PaymentRun, c.PayTime = domain.StatePaid, runID, parseTime(paidTime)
		b.Paid = append(b.Paid, c)
		b.Payments = append(b.Payments, domain.Payment{ClaimID: r.ID, RunID: runID, AmountOre: r.CostOre,
			Dossier: r.Dossier, TripDate: r.TripDate, PaidTime: paidTime})
		sum += r.CostOre
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(
		"UPDATE payment_runs SET claim_count = claim_count + ?, total_ore = total_ore + ? WHERE id = ?"),
		len(b.Paid), sum, runID); err != nil {
		return b, fmt.Errorf("update run totals: %w", err)
	}
	return b, nil
}

// paidRow is a claim taken by a batch; Fresh when this batch inserted its
// payment.
type paidRow struct {
	claimRow
	Fresh bool `db:"fresh"`
}

// paidColumns are the claim columns a batch returns: all but the three it
// sets (state, payment run, pay time), which PayBatch fills in.
var paidColumns = "c." + strings.Join([]string{"id", "dossier", "trip_date", "from_kommun_code", "to_kommun_code",
	"activity", "certificate", "distance_km", "cost_ore", "ticket_type", "reasons", "decision_reason", "lan_code",
	"request_id", "submit_time", "decide_time"}, ", c.")

// payBatchPostgres takes, marks and pays the batch in two statements.
//
// Batches of one run are serialised across replicas by the run's row lock,
// taken first and held to the commit: a replica resuming the same run
// waits, then reads the claims the other one paid as PAID. So the claims
// need no lock of their own (FOR UPDATE would write one into each row,
// which the UPDATE then writes again). The ids are read first and drive
// the UPDATE (= ANY: an index scan of the primary key; joined with a
// subquery the planner may hash all claims for each batch, quadratic over
// a run). The UPDATE re-checks the state: a claim changed concurrently is
// waited for and skipped unless still APPROVED, and paid with the values
// it has then. The primary key of payments pays a claim at most once.
func payBatchPostgres(ctx context.Context, tx *sqlx.Tx, runID, after string, n int, paidTime string) (ids []string, rows []paidRow, err error) {
	if _, err := tx.ExecContext(ctx, "SELECT 1 FROM payment_runs WHERE id = $1 FOR UPDATE", runID); err != nil {
		return nil, nil, fmt.Errorf("lock payment run: %w", err)
	}
	if err := tx.SelectContext(ctx, &ids, "SELECT id FROM claims WHERE state = $1 AND id > $2 ORDER BY state, id LIMIT $3",
		domain.StateApproved, after, n); err != nil {
		return nil, nil, fmt.Errorf("approved claims: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	q := `WITH upd AS (
			UPDATE claims c SET state = $1, payment_run = $2, pay_time = $3 WHERE c.id = ANY($4) AND c.state = $5
			RETURNING ` + paidColumns + `
		), ins AS (
			INSERT INTO payments (claim_id, run_id, amount_ore, dossier, trip_date, paid_time)
			SELECT id, $2, cost_ore, dossier, trip_date, $3 FROM upd
			ON CONFLICT (claim_id) DO NOTHING RETURNING claim_id
		)
		SELECT upd.*, ins.claim_id IS NOT NULL AS fresh FROM upd LEFT JOIN ins ON ins.claim_id = upd.id ORDER BY upd.id`
	if err := tx.SelectContext(ctx, &rows, q, domain.StatePaid, runID, paidTime, ids, domain.StateApproved); err != nil {
		return nil, nil, fmt.Errorf("pay claims: %w", err)
	}
	return ids, rows, nil
}

// payBatchPortable does the same in three statements (SQLite has a single
// writer, so no locking is needed).
func payBatchPortable(ctx context.Context, tx *sqlx.Tx, runID, after string, n int, paidTime string) ([]string, []paidRow, error) {
	var rows []paidRow
	if err := tx.SelectContext(ctx, &rows, tx.Rebind("SELECT "+claimColumns+
		", 0 AS fresh FROM claims WHERE state = ? AND id > ? ORDER BY state, id LIMIT ?"), domain.StateApproved, after, n); err != nil {
		return nil, nil, fmt.Errorf("approved claims: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO payments (claim_id, run_id, amount_ore, dossier, trip_date, paid_time) VALUES ")
	args := make([]any, 0, 6*len(rows))
	ids := make([]string, 0, len(rows))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, r.ID, runID, r.CostOre, r.Dossier, r.TripDate, paidTime)
		ids = append(ids, r.ID)
	}
	b.WriteString(" ON CONFLICT (claim_id) DO NOTHING RETURNING claim_id")
	var inserted []string
	if err := tx.SelectContext(ctx, &inserted, tx.Rebind(b.String()), args...); err != nil {
		return nil, nil, fmt.Errorf("insert payments: %w", err)
	}
	q, qargs, err := sqlx.In("UPDATE claims SET state = ?, payment_run = ?, pay_time = ? WHERE state = ? AND id IN (?)",
		domain.StatePaid, runID, paidTime, domain.StateApproved, ids)
	if err != nil {
		return nil, nil, err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), qargs...); err != nil {
		return nil, nil, fmt.Errorf("mark claims paid: %w", err)
	}
	fresh := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		fresh[id] = true
	}
	for i := range rows {
		rows[i].Fresh = fresh[rows[i].ID]
	}
	return ids, rows, nil
}

// CompleteRun marks run SUCCEEDED within tx, with its totals recounted from
// the stored payments.
func CompleteRun(ctx context.Context, tx *sqlx.Tx, runID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE payment_runs SET state = ?, complete_time = ?,
		claim_count = (SELECT COUNT(*) FROM payments WHERE run_id = ?),
		total_ore = (SELECT COALESCE(SUM(amount_ore), 0) FROM payments WHERE run_id = ?)
		WHERE id = ? AND state = ?`), domain.RunSucceeded, fmtTime(now), runID, runID, runID, domain.RunRunning)
	if err != nil {
		return fmt.Errorf("complete payment run: %w", err)
	}
	return nil
}

// RunTotals counts and sums the run's stored payments.
func (s *Store) RunTotals(ctx context.Context, runID string) (count, totalOre int64, err error) {
	var t struct {
		N   int64 `db:"n"`
		Sum int64 `db:"total"`
	}
	err = s.db.GetContext(ctx, &t, s.db.Rebind("SELECT COUNT(*) AS n, COALESCE(SUM(amount_ore), 0) AS total FROM payments WHERE run_id = ?"), runID)
	if err != nil {
		return 0, 0, fmt.Errorf("run totals: %w", err)
	}
	return t.N, t.Sum, nil
}

// PaymentDossiers lists the dossier numbers the run's payment file holds, in
// claim order: whose personal data a download of the file reads.
func (s *Store) PaymentDossiers(ctx context.Context, runID string) ([]string, error) {
	var dossiers []string
	err := s.db.SelectContext(ctx, &dossiers, s.db.Rebind("SELECT dossier FROM payments WHERE run_id = ? ORDER BY claim_id"), runID)
	if err != nil {
		return nil, fmt.Errorf("payment dossiers: %w", err)
	}
	return dossiers, nil
}

// Payments streams the payments of run in claim order to fn.
func (s *Store) Payments(ctx context.Context, runID string, fn func(next func() (domain.Payment, bool, error)) error) error {
	rows, err := s.db.QueryxContext(ctx, s.db.Rebind(
		"SELECT claim_id, run_id, amount_ore, dossier, trip_date, paid_time FROM payments WHERE run_id = ? ORDER BY claim_id"), runID)
	if err != nil {
		return fmt.Errorf("payments: %w", err)
	}
	defer rows.Close()
	err = fn(func() (domain.Payment, bool, error) {
		if !rows.Next() {
			return domain.Payment{}, false, rows.Err()
		}
		var p domain.Payment
		err := rows.StructScan(&p)
		return p, err == nil, err
	})
	if err != nil {
		return err
	}
	return rows.Err()
}
