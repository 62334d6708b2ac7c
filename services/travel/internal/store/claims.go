package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
	"github.com/tia-platform/tia/services/travel/internal/domain"
)

// ErrConflict is returned when a claim is no longer in a state the change
// applies to (decided meanwhile, say).
var ErrConflict = errors.New("conflict")

type claimRow struct {
	ID             string  `db:"id"`
	Dossier        string  `db:"dossier"`
	TripDate       string  `db:"trip_date"`
	FromKommunCode string  `db:"from_kommun_code"`
	ToKommunCode   string  `db:"to_kommun_code"`
	Activity       string  `db:"activity"`
	Certificate    string  `db:"certificate"`
	DistanceKm     float64 `db:"distance_km"`
	CostOre        int64   `db:"cost_ore"`
	TicketType     int32   `db:"ticket_type"`
	State          string  `db:"state"`
	Reasons        string  `db:"reasons"`
	DecisionReason string  `db:"decision_reason"`
	LanCode        string  `db:"lan_code"`
	RequestID      string  `db:"request_id"`
	SubmitTime     string  `db:"submit_time"`
	DecideTime     string  `db:"decide_time"`
	PayTime        string  `db:"pay_time"`
	PaymentRun     string  `db:"payment_run"`
}

const claimColumns = "id, dossier, trip_date, from_kommun_code, to_kommun_code, activity, certificate, distance_km, cost_ore, ticket_type, state, reasons, decision_reason, lan_code, request_id, submit_time, decide_time, pay_time, payment_run"

func toClaimRow(c domain.Claim) claimRow {
	return claimRow{
		ID: c.ID, Dossier: c.Dossier, TripDate: c.TripDate, FromKommunCode: c.FromKommunCode, ToKommunCode: c.ToKommunCode,
		Activity: c.Activity, Certificate: c.Certificate, DistanceKm: c.DistanceKm, CostOre: c.CostOre, TicketType: c.TicketType,
		State: c.State, Reasons: strings.Join(c.Reasons, ","), DecisionReason: c.DecisionReason, LanCode: c.LanCode,
		RequestID: c.RequestID, SubmitTime: fmtTime(c.SubmitTime), DecideTime: fmtTime(c.DecideTime),
		PayTime: fmtTime(c.PayTime), PaymentRun: c.PaymentRun,
	}
}

func (r claimRow) claim() domain.Claim {
	c := domain.Claim{
		ID: r.ID, Dossier: r.Dossier, TripDate: r.TripDate, FromKommunCode: r.FromKommunCode, ToKommunCode: r.ToKommunCode,
		Activity: r.Activity, Certificate: r.Certificate, DistanceKm: r.DistanceKm, CostOre: r.CostOre, TicketType: r.TicketType,
		State: r.State, DecisionReason: r.DecisionReason, LanCode: r.LanCode, RequestID: r.RequestID,
		SubmitTime: parseTime(r.SubmitTime), DecideTime: parseTime(r.DecideTime), PayTime: parseTime(r.PayTime),
		PaymentRun: r.PaymentRun,
	}
	if r.Reasons != "" {
		c.Reasons = strings.Split(r.Reasons, ",")
	}
	return c
}

// ClaimFilterFields are the fields a claim filter may name.
var ClaimFilterFields = map[string]listing.Field{
	"state":          {SQL: "state"},
	"lan_code":       {SQL: "lan_code", Check: listing.Lan},
	"trip_date":      {SQL: "trip_date", Kind: listing.Date},
	"dossier_number": {SQL: "dossier"},
}

// InsertClaim stores c within tx. A claim with the same dossier and request
// id returns ErrExists.
func InsertClaim(ctx context.Context, tx *sqlx.Tx, c domain.Claim) error {
	_, err := tx.NamedExecContext(ctx, "INSERT INTO claims ("+claimColumns+") VALUES (:"+
		strings.ReplaceAll(claimColumns, ", ", ", :")+")", toClaimRow(c))
	return records.Inserted(err, ErrExists, "insert claim")
}

// ErrExists is returned for a retried submission, or a second running
// payment run.
var ErrExists = errors.New("exists")

// ClaimByRequest returns the claim of dossier submitted with requestID.
func (s *Store) ClaimByRequest(ctx context.Context, dossier, requestID string) (domain.Claim, error) {
	return s.getClaim(ctx, s.db, "dossier = ? AND request_id = ?", dossier, requestID)
}

// GetClaimTx returns one claim, locked for update, within tx.
func (s *Store) GetClaimTx(ctx context.Context, tx *sqlx.Tx, id string) (domain.Claim, error) {
	return s.getClaim(ctx, tx, "id = ?"+forUpdate(s.db), id)
}

// GetClaim returns one claim.
func (s *Store) GetClaim(ctx context.Context, id string) (domain.Claim, error) {
	return s.getClaim(ctx, s.db, "id = ?", id)
}

func (s *Store) getClaim(ctx context.Context, q queryer, where string, args ...any) (domain.Claim, error) {
	return records.OneAs(ctx, q, "claim", claimRow.claim, "SELECT "+claimColumns+" FROM claims WHERE "+where, args...)
}

// Scope limits a claim list to one dossier or one län when set.
type Scope struct{ Dossier, Lan string }

func (sc Scope) where(filter listing.Filter) (string, []any) {
	where, args := "("+filter.SQL+")", append([]any(nil), filter.Args...)
	if sc.Dossier != "" {
		where += " AND dossier = ?"
		args = append(args, sc.Dossier)
	}
	if sc.Lan != "" {
		where += " AND lan_code = ?"
		args = append(args, sc.Lan)
	}
	return where, args
}

// ListClaims returns a page of claims in scope, oldest first.
func (s *Store) ListClaims(ctx context.Context, filter listing.Filter, sc Scope, page listing.Page) ([]domain.Claim, error) {
	where, args := sc.where(filter)
	return records.AllAs(ctx, s.db, "list claims", claimRow.claim, "SELECT "+claimColumns+" FROM claims WHERE "+where+
		" ORDER BY id LIMIT ? OFFSET ?", append(args, page.Limit(), page.Offset)...)
}

// AllClaims returns every claim in scope (for the reports).
func (s *Store) AllClaims(ctx context.Context, sc Scope) ([]domain.Claim, error) {
	where, args := sc.where(listing.Filter{SQL: "1=1"})
	return records.AllAs(ctx, s.db, "report claims", claimRow.claim, "SELECT "+claimColumns+" FROM claims WHERE "+where+" ORDER BY id", args...)
}

// Facts gathers what the local checks need about c (all but the registry's
// answer).
func (s *Store) Facts(ctx context.Context, c domain.Claim) (domain.Facts, error) {
	var f domain.Facts
	if c.FromKommunCode != c.ToKommunCode {
		ok, err := RouteApproved(ctx, s.db, c.FromKommunCode, c.ToKommunCode, c.TripDate)
		if err != nil {
			return f, err
		}
		f.RouteApproved = ok
	}
	var n int
	if err := s.db.GetContext(ctx, &n, s.db.Rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM claims WHERE dossier = ? AND trip_date = ?
		AND from_kommun_code = ? AND to_kommun_code = ? AND state <> ? AND id <> ? LIMIT 1) AS dup`),
		c.Dossier, c.TripDate, c.FromKommunCode, c.ToKommunCode, domain.StateRejected, c.ID); err != nil {
		return f, fmt.Errorf("find duplicates: %w", err)
	}
	f.Duplicate = n > 0
	err := s.db.GetContext(ctx, &f.ParticipationEnd, s.db.Rebind(
		"SELECT end_date FROM participation_ends WHERE certificate = ?"), c.Certificate)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("find participation end: %w", err)
	}
	return f, nil
}

// UpdateClaim stores the decision fields of c (state, reasons, decision
// reason and time) within tx if the stored claim is still in one of states;
// otherwise ErrConflict.
func UpdateClaim(ctx context.Context, tx *sqlx.Tx, c domain.Claim, states []string) error {
	q, args, err := sqlx.In(`UPDATE claims SET state = ?, reasons = ?, decision_reason = ?, decide_time = ?
		WHERE id = ? AND state IN (?)`, c.State, strings.Join(c.Reasons, ","), c.DecisionReason, fmtTime(c.DecideTime), c.ID, states)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
	if err != nil {
		return fmt.Errorf("update claim: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	return nil
}

// PendingClaims returns up to limit claims waiting for the registry.
func (s *Store) PendingClaims(ctx context.Context, limit int) ([]domain.Claim, error) {
	return records.AllAs(ctx, s.db, "pending claims", claimRow.claim, "SELECT "+claimColumns+
		" FROM claims WHERE state = ? ORDER BY id LIMIT ?", domain.StatePending, limit)
}

// RecordParticipationEnd keeps an ended participation (idempotently) and
// returns the approved, unpaid claims on that certificate for trips after
// the end, locked for update within tx.
func RecordParticipationEnd(ctx context.Context, tx *sqlx.Tx, certificate, dossier, activity, endDate string, outcome int32) ([]domain.Claim, error) {
	if err := records.Exec(ctx, tx, "record participation end", `INSERT INTO participation_ends (certificate, dossier, activity, end_date, outcome)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (certificate) DO UPDATE SET end_date = excluded.end_date, outcome = excluded.outcome`,
		certificate, dossier, activity, endDate, outcome); err != nil {
		return nil, err
	}
	return records.AllAs(ctx, tx, "claims after the end", claimRow.claim, "SELECT "+claimColumns+
		" FROM claims WHERE certificate = ? AND state = ? AND trip_date > ?", certificate, domain.StateApproved, endDate)
}

// ParticipationEnds maps certificate to end date.
func (s *Store) ParticipationEnds(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Certificate string `db:"certificate"`
		EndDate     string `db:"end_date"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT certificate, end_date FROM participation_ends"); err != nil {
		return nil, fmt.Errorf("participation ends: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Certificate] = r.EndDate
	}
	return out, nil
}
