package store

import (
	"context"

	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
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

// CreateAgreement inserts a within tx.
func (s *Store) CreateAgreement(ctx context.Context, tx Tx, a domain.Agreement) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO agreements ("+agreementColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		a.LanCode, a.ID, a.OrgNumber, a.SignDate, a.StartDate, a.EndDate, a.EndedDate, a.Description, formatTime(a.CreateTime))
	return records.Inserted(err, ErrExists, "insert agreement")
}

// GetAgreement returns one agreement.
func (s *Store) GetAgreement(ctx context.Context, lan, id string) (domain.Agreement, error) {
	return GetAgreement(ctx, s.db, lan, id)
}

// GetAgreement returns one agreement from q (the database or a transaction).
func GetAgreement(ctx context.Context, q Q, lan, id string) (domain.Agreement, error) {
	return records.OneAs(ctx, q, "agreement", agreementRow.agreement, "SELECT "+agreementColumns+" FROM agreements WHERE lan_code = ? AND id = ?", lan, id)
}

// SaveAgreementEnd writes a's early end within tx.
func SaveAgreementEnd(ctx context.Context, tx Tx, a domain.Agreement) error {
	return records.Exec(ctx, tx, "end agreement", "UPDATE agreements SET ended_date = ? WHERE lan_code = ? AND id = ?", a.EndedDate, a.LanCode, a.ID)
}

// AgreementFilterFields are the fields an agreement list filter may name.
var AgreementFilterFields = map[string]listing.Field{
	// The organiser's resource name, as the API writes it.
	"organiser":  {SQL: "('organisers/' || org_number)"},
	"org_number": {SQL: "org_number"},
	"start_date": {SQL: "start_date"},
	"end_date":   {SQL: "end_date"},
	"ended_date": {SQL: "ended_date"},
}

// AgreementOrder are the fields ListAgreements may be ordered by.
var AgreementOrder = map[string]string{"start_date": "start_date", "end_date": "end_date", "sign_date": "sign_date", "create_time": "create_time"}

// ListAgreements lists agreements of lan (all when empty) and of org (all
// when empty), in order (see List), then by name.
func (s *Store) ListAgreements(ctx context.Context, lan, org string, filter listing.Filter, order string, page listing.Page) ([]domain.Agreement, error) {
	where, args := filter.SQL, filter.Args
	if lan != "" {
		where = "lan_code = ? AND (" + where + ")"
		args = append([]any{lan}, args...)
	}
	if org != "" {
		where = "org_number = ? AND (" + where + ")"
		args = append([]any{org}, args...)
	}
	q := "SELECT " + agreementColumns + " FROM agreements WHERE " + where + " ORDER BY " + order + "lan_code, id LIMIT ? OFFSET ?"
	return records.AllAs(ctx, s.db, "list agreements", agreementRow.agreement, q, append(args, page.Limit(), page.Offset)...)
}

// OrganiserAgreements returns every agreement of org in lan from q (the
// database or a transaction).
func OrganiserAgreements(ctx context.Context, q Q, org, lan string) ([]domain.Agreement, error) {
	return records.AllAs(ctx, q, "organiser agreements", agreementRow.agreement,
		"SELECT "+agreementColumns+" FROM agreements WHERE org_number = ? AND lan_code = ?", org, lan)
}
