package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
)

type organiserRow struct {
	OrgNumber   string `db:"org_number"`
	DisplayName string `db:"display_name"`
	Kind        string `db:"kind"`
	CreateTime  string `db:"create_time"`
	UpdateTime  string `db:"update_time"`
}

type contactRow struct {
	OrgNumber   string `db:"org_number"`
	Position    int    `db:"position"`
	Role        string `db:"role"`
	DisplayName string `db:"display_name"`
	Email       string `db:"email"`
	Phone       string `db:"phone"`
	LanCodes    string `db:"lan_codes"`
}

func (c contactRow) contact() domain.Contact {
	return domain.Contact{Role: domain.ContactRole(c.Role), DisplayName: c.DisplayName, Email: c.Email,
		Phone: c.Phone, LanCodes: splitList(c.LanCodes)}
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// CreateOrganiser inserts o with its contacts within tx. registeredBy is
// the län of the county board that registered it ("" for others).
func (s *Store) CreateOrganiser(ctx context.Context, tx Tx, o domain.Organiser, registeredBy string) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO organisers (org_number, display_name, kind, create_time, update_time, registered_by_lan) "+
		"VALUES (?, ?, ?, ?, ?, ?)"), o.OrgNumber, o.DisplayName, string(o.Kind), formatTime(o.CreateTime), formatTime(o.UpdateTime), registeredBy)
	if err := records.Inserted(err, ErrExists, "insert organiser"); err != nil {
		return err
	}
	return insertContacts(ctx, tx, o)
}

// UpdateOrganiser replaces o and its contacts within tx.
func (s *Store) UpdateOrganiser(ctx context.Context, tx Tx, o domain.Organiser) error {
	if err := records.ExecOne(ctx, tx, "update organiser", "UPDATE organisers SET display_name = ?, kind = ?, update_time = ? WHERE org_number = ?",
		o.DisplayName, string(o.Kind), formatTime(o.UpdateTime), o.OrgNumber); err != nil {
		return err
	}
	if err := records.Exec(ctx, tx, "delete contacts", "DELETE FROM organiser_contacts WHERE org_number = ?", o.OrgNumber); err != nil {
		return err
	}
	return insertContacts(ctx, tx, o)
}

// OrganiserLans returns the län an organiser works in: those of its
// activities and agreements, those its contacts name, and that of the
// county board that registered it. A county board may change only an
// organiser of its own län.
func OrganiserLans(ctx context.Context, q Q, org string) ([]string, error) {
	var lans []string
	err := sqlx.SelectContext(ctx, q, &lans, q.Rebind(
		"SELECT lan_code FROM activities WHERE org_number = ? "+
			"UNION SELECT lan_code FROM agreements WHERE org_number = ? "+
			"UNION SELECT registered_by_lan FROM organisers WHERE org_number = ? AND registered_by_lan <> ''"), org, org, org)
	if err != nil {
		return nil, fmt.Errorf("organiser's län: %w", err)
	}
	var contacts []string
	if err := sqlx.SelectContext(ctx, q, &contacts, q.Rebind("SELECT lan_codes FROM organiser_contacts WHERE org_number = ?"), org); err != nil {
		return nil, fmt.Errorf("organiser's län: %w", err)
	}
	for _, c := range contacts {
		lans = append(lans, splitList(c)...)
	}
	return lans, nil
}

func insertContacts(ctx context.Context, tx *sqlx.Tx, o domain.Organiser) error {
	for i, c := range o.Contacts {
		if err := records.Exec(ctx, tx, "insert contact", "INSERT INTO organiser_contacts (org_number, position, role, display_name, email, phone, lan_codes) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?)", o.OrgNumber, i, string(c.Role), c.DisplayName, c.Email, c.Phone, joinList(c.LanCodes)); err != nil {
			return err
		}
	}
	return nil
}

// GetOrganiser returns one organiser with its contacts. q may be the
// database or a transaction.
func (s *Store) GetOrganiser(ctx context.Context, org string) (domain.Organiser, error) {
	return GetOrganiser(ctx, s.db, org)
}

// GetOrganiser returns one organiser with its contacts from q (the database
// or a transaction).
func GetOrganiser(ctx context.Context, q Q, org string) (domain.Organiser, error) {
	o, err := records.OneAs(ctx, q, "organiser", organiserRow.organiser,
		"SELECT org_number, display_name, kind, create_time, update_time FROM organisers WHERE org_number = ?", org)
	if err != nil {
		return domain.Organiser{}, err
	}
	cs, err := records.All[contactRow](ctx, q, "get contacts",
		"SELECT org_number, position, role, display_name, email, phone, lan_codes FROM organiser_contacts WHERE org_number = ? ORDER BY position", org)
	if err != nil {
		return domain.Organiser{}, err
	}
	for _, c := range cs {
		o.Contacts = append(o.Contacts, c.contact())
	}
	return o, nil
}

func (r organiserRow) organiser() domain.Organiser {
	return domain.Organiser{OrgNumber: r.OrgNumber, DisplayName: r.DisplayName, Kind: domain.Kind(r.Kind),
		CreateTime: parseTime(r.CreateTime), UpdateTime: parseTime(r.UpdateTime)}
}

// OrganiserFilterFields are the fields an organiser list filter may name.
var OrganiserFilterFields = map[string]listing.Field{
	"kind":         {SQL: "kind"},
	"display_name": {SQL: "display_name"},
}

// OrganiserOrder are the fields ListOrganisers may be ordered by.
var OrganiserOrder = map[string]string{"display_name": "display_name", "kind": "kind", "create_time": "create_time", "update_time": "update_time"}

// ListOrganisers returns a page of organisers with their contacts, in order
// (see List), then by organisation number.
func (s *Store) ListOrganisers(ctx context.Context, filter listing.Filter, order string, page listing.Page) ([]domain.Organiser, error) {
	q := "SELECT org_number, display_name, kind, create_time, update_time FROM organisers WHERE " + filter.SQL +
		" ORDER BY " + order + "org_number LIMIT ? OFFSET ?"
	rows, err := records.All[organiserRow](ctx, s.db, "list organisers", q, append(filter.Args, page.Limit(), page.Offset)...)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Organiser, len(rows))
	idx := map[string]int{}
	orgs := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r.organiser()
		idx[r.OrgNumber] = i
		orgs[i] = r.OrgNumber
	}
	if len(rows) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In("SELECT org_number, position, role, display_name, email, phone, lan_codes FROM organiser_contacts "+
		"WHERE org_number IN (?) ORDER BY org_number, position", orgs)
	if err != nil {
		return nil, err
	}
	cs, err := records.All[contactRow](ctx, s.db, "list contacts", q, args...)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		i := idx[c.OrgNumber]
		out[i].Contacts = append(out[i].Contacts, c.contact())
	}
	return out, nil
}

// LanContact is a contact of an organiser covering a län.
type LanContact struct {
	Organiser domain.Organiser // without contacts
	Contact   domain.Contact
}

// LanContacts lists every contact covering län lan, by organiser and role.
func (s *Store) LanContacts(ctx context.Context, lan string) ([]LanContact, error) {
	var rows []struct {
		organiserRow
		C contactRow `db:"c"`
	}
	q := "SELECT o.org_number, o.display_name, o.kind, o.create_time, o.update_time, " +
		"c.org_number AS \"c.org_number\", c.position AS \"c.position\", c.role AS \"c.role\", c.display_name AS \"c.display_name\", " +
		"c.email AS \"c.email\", c.phone AS \"c.phone\", c.lan_codes AS \"c.lan_codes\" " +
		"FROM organiser_contacts c JOIN organisers o ON o.org_number = c.org_number " +
		"WHERE c.lan_codes = '' OR c.lan_codes LIKE ? ORDER BY o.org_number, c.role, c.position"
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), "%,"+lan+",%"); err != nil {
		return nil, fmt.Errorf("list län contacts: %w", err)
	}
	out := make([]LanContact, len(rows))
	for i, r := range rows {
		out[i] = LanContact{Organiser: r.organiser(), Contact: r.C.contact()}
	}
	return out, nil
}
