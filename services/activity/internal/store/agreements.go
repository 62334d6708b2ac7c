package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/listing"
)

type agreementRow struct {
	LanCode     string `db:"lan_code"`
	ID          string `db:"id"`
	OrgNumber   string `db:"org_number"`
	SignDate    string `db:"sign_date"`
	StartDate   string `db:"start_date"`
	EndDate     string `db:"end_date"`
	EndedDate   string `db:"ended_date"`
	Description string `db:"description"`
	CreateTime  string `db:"create_time"`
}

const agreementColumns = "lan_code, id, org_number, sign_date, start_date, end_date, ended_date, description, create_time"

func (r agreementRow) agreement() domain.Agreement {
	return domain.Agreement{LanCode: r.LanCode, ID: r.ID, OrgNumber: r.OrgNumber, SignDate: r.SignDate,
		StartDate: r.StartDate, EndDate: r.EndDate, EndedDate: r.EndedDate, Description: r.Description,
		CreateTime: parseTime(r.CreateTime)}
}

// CreateAgreement inserts a and runs also in the same transaction.
func (s *Store) CreateAgreement(ctx context.Context, a domain.Agreement, also func(*sqlx.Tx) error) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO agreements ("+agreementColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			a.LanCode, a.ID, a.OrgNumber, a.SignDate, a.StartDate, a.EndDate, a.EndedDate, a.Description, formatTime(a.CreateTime))
		if db.IsUniqueViolation(err) {
			return ErrExists
		}
		if err != nil {
			return fmt.Errorf("insert agreement: %w", err)
		}
		return also(tx)
	})
}

// GetAgreement returns one agreement.
func (s *Store) GetAgreement(ctx context.Context, lan, id string) (domain.Agreement, error) {
	var r agreementRow
	err := s.db.GetContext(ctx, &r, s.db.Rebind("SELECT "+agreementColumns+" FROM agreements WHERE lan_code = ? AND id = ?"), lan, id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Agreement{}, ErrNotFound
	}
	if err != nil {
		return domain.Agreement{}, fmt.Errorf("get agreement: %w", err)
	}
	return r.agreement(), nil
}

// EndAgreement changes an agreement with fn inside a transaction; fn
// returns the error to abort with. also runs after the change.
func (s *Store) EndAgreement(ctx context.Context, lan, id string, fn func(*domain.Agreement) error, also func(*sqlx.Tx, domain.Agreement) error) (domain.Agreement, error) {
	var out domain.Agreement
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var r agreementRow
		err := tx.GetContext(ctx, &r, tx.Rebind("SELECT "+agreementColumns+" FROM agreements WHERE lan_code = ? AND id = ?"), lan, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("get agreement: %w", err)
		}
		out = r.agreement()
		if err := fn(&out); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE agreements SET ended_date = ? WHERE lan_code = ? AND id = ?"),
			out.EndedDate, lan, id); err != nil {
			return fmt.Errorf("end agreement: %w", err)
		}
		return also(tx, out)
	})
	return out, err
}

// AgreementFilterFields are the fields an agreement list filter may name.
var AgreementFilterFields = map[string]listing.Field{
	"org_number": {SQL: "org_number"},
	"start_date": {SQL: "start_date"},
	"end_date":   {SQL: "end_date"},
	"ended_date": {SQL: "ended_date"},
}

// ListAgreements lists agreements of lan (all when empty) and of org (all
// when empty).
func (s *Store) ListAgreements(ctx context.Context, lan, org string, filter listing.Filter, page listing.Page) ([]domain.Agreement, error) {
	where, args := filter.SQL, filter.Args
	if lan != "" {
		where = "lan_code = ? AND (" + where + ")"
		args = append([]any{lan}, args...)
	}
	if org != "" {
		where = "org_number = ? AND (" + where + ")"
		args = append([]any{org}, args...)
	}
	var rows []agreementRow
	q := "SELECT " + agreementColumns + " FROM agreements WHERE " + where + " ORDER BY lan_code, id LIMIT ? OFFSET ?"
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), append(args, page.Limit(), page.Offset)...); err != nil {
		return nil, fmt.Errorf("list agreements: %w", err)
	}
	out := make([]domain.Agreement, len(rows))
	for i, r := range rows {
		out[i] = r.agreement()
	}
	return out, nil
}

// OrganiserAgreements returns every agreement of org in lan.
func (s *Store) OrganiserAgreements(ctx context.Context, org, lan string) ([]domain.Agreement, error) {
	var rows []agreementRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind("SELECT "+agreementColumns+" FROM agreements WHERE org_number = ? AND lan_code = ?"), org, lan); err != nil {
		return nil, fmt.Errorf("organiser agreements: %w", err)
	}
	out := make([]domain.Agreement, len(rows))
	for i, r := range rows {
		out[i] = r.agreement()
	}
	return out, nil
}
