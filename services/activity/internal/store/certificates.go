package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
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
// certificate to it) within tx.
func (s *Store) CreateCertificate(ctx context.Context, tx Tx, c domain.Certificate) error {
	if c.Renews != "" {
		old, err := getCertificate(ctx, tx, c.Org, c.ActivityID, lastSegment(c.Renews))
		if err != nil {
			return err
		}
		if old.RenewedBy != "" {
			return ErrConflict
		}
		if err := records.Exec(ctx, tx, "link renewal", "UPDATE certificates SET renewed_by = ? "+
			"WHERE org_number = ? AND activity_id = ? AND id = ? AND renewed_by = ''", c.Name(), old.Org, old.ActivityID, old.ID); err != nil {
			return err
		}
	}
	_, err := tx.NamedExecContext(ctx, insertCertificate, certRow(c))
	return records.Inserted(err, ErrExists, "insert certificate")
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

// GetCertificate returns one certificate from q (the database or a
// transaction).
func GetCertificate(ctx context.Context, q Q, org, activity, id string) (domain.Certificate, error) {
	return getCertificate(ctx, q, org, activity, id)
}

// GetCertificate returns one certificate.
func (s *Store) GetCertificate(ctx context.Context, org, activity, id string) (domain.Certificate, error) {
	return getCertificate(ctx, s.db, org, activity, id)
}

func getCertificate(ctx context.Context, q Q, org, activity, id string) (domain.Certificate, error) {
	return records.OneAs(ctx, q, "certificate", certificateRow.certificate,
		"SELECT "+certificateColumns+" FROM certificates WHERE org_number = ? AND activity_id = ? AND id = ?", org, activity, id)
}

// SaveParticipation writes c's participation and end date within tx.
func SaveParticipation(ctx context.Context, tx Tx, c domain.Certificate, now time.Time) error {
	return records.Exec(ctx, tx, "update certificate", "UPDATE certificates SET participation = ?, end_date = ?, update_time = ? "+
		"WHERE org_number = ? AND activity_id = ? AND id = ?", string(c.Participation), c.EndDate, formatTime(now), c.Org, c.ActivityID, c.ID)
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

// CertificateOrder are the fields ListCertificates may be ordered by.
var CertificateOrder = map[string]string{"valid_from": "valid_from", "valid_to": "valid_to", "create_time": "create_time"}

// ListCertificates lists certificates in scope, in order (see List), then
// by name.
func (s *Store) ListCertificates(ctx context.Context, scope CertificateScope, filter listing.Filter, order string, page listing.Page) ([]domain.Certificate, error) {
	where, args := "("+filter.SQL+")", filter.Args
	for col, v := range map[string]string{"org_number": scope.Org, "activity_id": scope.Activity, "dossier_number": scope.Dossier} {
		if v != "" {
			where = col + " = ? AND " + where
			args = append([]any{v}, args...)
		}
	}
	q := "SELECT " + certificateColumns + " FROM certificates WHERE " + where + " ORDER BY " + order + "org_number, activity_id, id LIMIT ? OFFSET ?"
	return records.AllAs(ctx, s.db, "list certificates", certificateRow.certificate, q, append(args, page.Limit(), page.Offset)...)
}

// EndRenewals gives the renewals of c (following renewed_by) c's ended
// participation, so that a drop-out recorded on a renewed certificate also
// ends the periods after it. It runs in the transaction that ended c and
// returns the renewals it changed.
func EndRenewals(ctx context.Context, tx Tx, c domain.Certificate, now time.Time) ([]domain.Certificate, error) {
	var out []domain.Certificate
	for next := c.RenewedBy; next != ""; {
		org, act, id := splitCertificate(next)
		n, err := getCertificate(ctx, tx, org, act, id)
		if err != nil {
			return nil, fmt.Errorf("renewal %s: %w", next, err)
		}
		n.Participation, n.EndDate = c.Participation, c.EndDate
		if err := SaveParticipation(ctx, tx, n, now); err != nil {
			return nil, fmt.Errorf("end renewal: %w", err)
		}
		out = append(out, n)
		next = n.RenewedBy
	}
	return out, nil
}

func splitCertificate(name string) (org, activity, id string) {
	p := strings.Split(name, "/")
	if len(p) != 6 {
		return "", "", ""
	}
	return p[1], p[3], p[5]
}

// ExpiredCertificates returns at most limit certificates that still hold a
// dossier number although their activity ended before cutoff (YYYY-MM-DD).
func ExpiredCertificates(ctx context.Context, tx Tx, cutoff string, limit int) ([]domain.Certificate, error) {
	q := "SELECT " + certificateColumns + " FROM certificates WHERE dossier_number <> '' AND EXISTS (" +
		"SELECT 1 FROM activities a WHERE a.org_number = certificates.org_number AND a.id = certificates.activity_id AND a.end_date < ?) " +
		"ORDER BY org_number, activity_id, id LIMIT ?"
	return records.AllAs(ctx, tx, "expired certificates", certificateRow.certificate, q, cutoff, limit)
}

// Anonymise removes the dossier number of c within tx. What the figures
// need (activity, kommun, dates, participation) stays.
func Anonymise(ctx context.Context, tx Tx, c domain.Certificate, now time.Time) error {
	return records.Exec(ctx, tx, "anonymise certificate", "UPDATE certificates SET dossier_number = '', update_time = ? "+
		"WHERE org_number = ? AND activity_id = ? AND id = ?", formatTime(now), c.Org, c.ActivityID, c.ID)
}
