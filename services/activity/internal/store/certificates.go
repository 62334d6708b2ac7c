package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/listing"
)

type certificateRow struct {
	OrgNumber     string `db:"org_number"`
	ActivityID    string `db:"activity_id"`
	ID            string `db:"id"`
	Dossier       string `db:"dossier_number"`
	ValidFrom     string `db:"valid_from"`
	ValidTo       string `db:"valid_to"`
	Renews        string `db:"renews"`
	RenewedBy     string `db:"renewed_by"`
	Participation string `db:"participation"`
	EndDate       string `db:"end_date"`
	KommunCode    string `db:"kommun_code"`
	LanCode       string `db:"lan_code"`
	CreateTime    string `db:"create_time"`
	UpdateTime    string `db:"update_time"`
}

const certificateColumns = "org_number, activity_id, id, dossier_number, valid_from, valid_to, renews, renewed_by, " +
	"participation, end_date, kommun_code, lan_code, create_time, update_time"

const insertCertificate = "INSERT INTO certificates (" + certificateColumns + ") VALUES (:org_number, :activity_id, :id, " +
	":dossier_number, :valid_from, :valid_to, :renews, :renewed_by, :participation, :end_date, :kommun_code, :lan_code, " +
	":create_time, :update_time)"

func certRow(c domain.Certificate) certificateRow {
	return certificateRow{OrgNumber: c.Org, ActivityID: c.ActivityID, ID: c.ID, Dossier: c.Dossier, ValidFrom: c.ValidFrom,
		ValidTo: c.ValidTo, Renews: c.Renews, RenewedBy: c.RenewedBy, Participation: string(c.Participation), EndDate: c.EndDate,
		KommunCode: c.KommunCode, LanCode: c.LanCode, CreateTime: formatTime(c.CreateTime), UpdateTime: formatTime(c.CreateTime)}
}

func (r certificateRow) certificate() domain.Certificate {
	return domain.Certificate{Org: r.OrgNumber, ActivityID: r.ActivityID, ID: r.ID, Dossier: r.Dossier, ValidFrom: r.ValidFrom,
		ValidTo: r.ValidTo, Renews: r.Renews, RenewedBy: r.RenewedBy, Participation: domain.Participation(r.Participation),
		EndDate: r.EndDate, KommunCode: r.KommunCode, LanCode: r.LanCode, CreateTime: parseTime(r.CreateTime)}
}

// CreateCertificate inserts c (and, for a renewal, links the renewed
// certificate to it) and runs also in the same transaction.
func (s *Store) CreateCertificate(ctx context.Context, c domain.Certificate, also func(*sqlx.Tx) error) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if c.Renews != "" {
			old, err := getCertificate(ctx, tx, c.Org, c.ActivityID, lastSegment(c.Renews))
			if err != nil {
				return err
			}
			if old.RenewedBy != "" {
				return ErrConflict
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE certificates SET renewed_by = ? "+
				"WHERE org_number = ? AND activity_id = ? AND id = ? AND renewed_by = ''"), c.Name(), old.Org, old.ActivityID, old.ID); err != nil {
				return fmt.Errorf("link renewal: %w", err)
			}
		}
		_, err := tx.NamedExecContext(ctx, insertCertificate, certRow(c))
		if db.IsUniqueViolation(err) {
			return ErrExists
		}
		if err != nil {
			return fmt.Errorf("insert certificate: %w", err)
		}
		return also(tx)
	})
}

// ErrConflict is returned when the stored state changed under a request.
var ErrConflict = errors.New("conflict")

func lastSegment(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}

// GetCertificate returns one certificate.
func (s *Store) GetCertificate(ctx context.Context, org, activity, id string) (domain.Certificate, error) {
	return getCertificate(ctx, s.db, org, activity, id)
}

func getCertificate(ctx context.Context, q sqlx.QueryerContext, org, activity, id string) (domain.Certificate, error) {
	var r certificateRow
	err := sqlx.GetContext(ctx, q, &r, q.(interface{ Rebind(string) string }).Rebind(
		"SELECT "+certificateColumns+" FROM certificates WHERE org_number = ? AND activity_id = ? AND id = ?"), org, activity, id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Certificate{}, ErrNotFound
	}
	if err != nil {
		return domain.Certificate{}, fmt.Errorf("get certificate: %w", err)
	}
	return r.certificate(), nil
}

// ChangeCertificate reads a certificate, applies fn and writes the result,
// then runs also, all in one transaction.
func (s *Store) ChangeCertificate(ctx context.Context, org, activity, id string, fn func(*domain.Certificate) error, also func(*sqlx.Tx, domain.Certificate) error) (domain.Certificate, error) {
	var out domain.Certificate
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		c, err := getCertificate(ctx, tx, org, activity, id)
		if err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
		out = c
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE certificates SET participation = ?, end_date = ?, update_time = ? "+
			"WHERE org_number = ? AND activity_id = ? AND id = ?"), string(c.Participation), c.EndDate,
			formatTime(time.Now()), org, activity, id); err != nil {
			return fmt.Errorf("update certificate: %w", err)
		}
		return also(tx, c)
	})
	return out, err
}

// CertificateFilterFields are the fields a certificate list filter may name.
var CertificateFilterFields = map[string]listing.Field{
	"dossier_number": {SQL: "dossier_number"},
	"participation":  {SQL: "participation"},
	"valid_from":     {SQL: "valid_from"},
	"valid_to":       {SQL: "valid_to"},
	"kommun_code":    {SQL: "kommun_code"},
}

// CertificateScope narrows a certificate list; empty fields match all.
type CertificateScope struct {
	Org, Activity, Dossier string
}

// ListCertificates lists certificates in scope.
func (s *Store) ListCertificates(ctx context.Context, scope CertificateScope, filter listing.Filter, page listing.Page) ([]domain.Certificate, error) {
	where, args := "("+filter.SQL+")", filter.Args
	for col, v := range map[string]string{"org_number": scope.Org, "activity_id": scope.Activity, "dossier_number": scope.Dossier} {
		if v != "" {
			where = col + " = ? AND " + where
			args = append([]any{v}, args...)
		}
	}
	var rows []certificateRow
	q := "SELECT " + certificateColumns + " FROM certificates WHERE " + where + " ORDER BY org_number, activity_id, id LIMIT ? OFFSET ?"
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), append(args, page.Limit(), page.Offset)...); err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	out := make([]domain.Certificate, len(rows))
	for i, r := range rows {
		out[i] = r.certificate()
	}
	return out, nil
}

// EndRenewals gives the renewals of c (following renewed_by) c's ended
// participation, so that a drop-out recorded on a renewed certificate also
// ends the periods after it. It runs in the transaction that ended c.
func EndRenewals(ctx context.Context, tx Tx, c domain.Certificate) error {
	for next := c.RenewedBy; next != ""; {
		org, act, id := splitCertificate(next)
		n, err := getCertificate(ctx, tx, org, act, id)
		if err != nil {
			return fmt.Errorf("renewal %s: %w", next, err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE certificates SET participation = ?, end_date = ?, update_time = ? "+
			"WHERE org_number = ? AND activity_id = ? AND id = ?"), string(c.Participation), c.EndDate,
			formatTime(time.Now()), org, act, id); err != nil {
			return fmt.Errorf("end renewal: %w", err)
		}
		next = n.RenewedBy
	}
	return nil
}

func splitCertificate(name string) (org, activity, id string) {
	p := strings.Split(name, "/")
	if len(p) != 6 {
		return "", "", ""
	}
	return p[1], p[3], p[5]
}
