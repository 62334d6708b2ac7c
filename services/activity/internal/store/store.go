// Package store keeps the activity registry in its own database through sqlx.
// Queries are written with ? placeholders and rebound for the driver, so the
// same code runs on PostgreSQL and SQLite.
package store

import (
	"context"
	"embed"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the registry's tables, applied at start.
var Migrations = db.Embedded(migrations, "migrations")

// ErrNotFound is returned for a row that does not exist; ErrExists when
// creating one whose name is taken. They are the platform's shared kinds, so
// the service's error table maps them without a rule of its own.
var (
	ErrNotFound = apierr.ErrNotFound
	ErrExists   = apierr.ErrAlreadyExists
)

// Tx is the transaction of a unit of work (uow.Work.Tx): every write of the
// store runs in the caller's unit, next to the events and audit entries of
// the same change.
type Tx = *sqlx.Tx

// Q is the database or a transaction, for reads.
type Q = sqlx.ExtContext

// Store reads and writes activities.
type Store struct {
	db *sqlx.DB
	// reads runs the hot reads (one activity, the catalogue) through kept
	// prepared statements.
	reads *db.Statements
}

// New returns a store on a migrated database.
func New(d *sqlx.DB) *Store { return &Store{db: d, reads: db.NewStatements(d)} }

type row struct {
	Org        string `db:"org_number"`
	ID         string `db:"id"`
	Title      string `db:"title"`
	KommunCode string `db:"kommun_code"`
	LanCode    string `db:"lan_code"`
	Focus      string `db:"focus"`
	Capacity   int32  `db:"capacity"`
	StartDate  string `db:"start_date"`
	EndDate    string `db:"end_date"`
	CreateTime string `db:"create_time"`
	UpdateTime string `db:"update_time"`
	Funding    string `db:"funding"`
	Programme  string `db:"programme"`
	Agreement  string `db:"agreement"`
	Address    string `db:"address"`
	Schedule   string `db:"schedule"`
	Languages  string `db:"languages"`
}

const columns = "org_number, id, title, kommun_code, lan_code, focus, capacity, start_date, end_date, create_time, update_time, " +
	"funding, programme, agreement, address, schedule, languages"

const insertActivity = "INSERT INTO activities (" + columns + ") VALUES (" +
	":org_number, :id, :title, :kommun_code, :lan_code, :focus, :capacity, :start_date, :end_date, :create_time, :update_time, " +
	":funding, :programme, :agreement, :address, :schedule, :languages)"

func toRow(a domain.Activity) row {
	focus := make([]string, len(a.Focus))
	for i, f := range a.Focus {
		focus[i] = string(f)
	}
	return row{
		Org: a.Org, ID: a.ID, Title: a.Title, KommunCode: a.KommunCode, LanCode: a.LanCode,
		Focus: strings.Join(focus, ","), Capacity: a.Capacity, StartDate: a.StartDate, EndDate: a.EndDate,
		CreateTime: a.CreateTime.UTC().Format(time.RFC3339Nano), UpdateTime: a.UpdateTime.UTC().Format(time.RFC3339Nano),
		Funding: string(a.Funding), Programme: string(a.Programme), Agreement: a.Agreement, Address: a.Address,
		Schedule: a.Schedule, Languages: joinList(a.Languages),
	}
}

// joinList writes a list as ",a,b," (empty for none), so that one item is
// found with LIKE '%,a,%'.
func joinList(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return "," + strings.Join(l, ",") + ","
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func (r row) activity() domain.Activity {
	var focus []domain.Focus
	for _, f := range strings.Split(r.Focus, ",") {
		if f != "" {
			focus = append(focus, domain.Focus(f))
		}
	}
	created, _ := time.Parse(time.RFC3339Nano, r.CreateTime)
	updated, _ := time.Parse(time.RFC3339Nano, r.UpdateTime)
	return domain.Activity{
		Org: r.Org, ID: r.ID, Title: r.Title, KommunCode: r.KommunCode, LanCode: r.LanCode, Focus: focus,
		Capacity: r.Capacity, StartDate: r.StartDate, EndDate: r.EndDate, CreateTime: created, UpdateTime: updated,
		Funding: domain.Funding(r.Funding), Programme: domain.Programme(r.Programme), Agreement: r.Agreement,
		Address: r.Address, Schedule: r.Schedule, Languages: splitList(r.Languages),
	}
}

// Create inserts a within the unit of work tx.
func (s *Store) Create(ctx context.Context, tx Tx, a domain.Activity) error {
	_, err := tx.NamedExecContext(ctx, insertActivity, toRow(a))
	return records.Inserted(err, ErrExists, "insert activity")
}

// DB is the database, for reads outside a unit of work.
func (s *Store) DB() *sqlx.DB { return s.db }

// Get returns one activity.
func (s *Store) Get(ctx context.Context, org, id string) (domain.Activity, error) {
	return GetActivity(ctx, s.reads, org, id)
}

// GetActivity returns one activity from q (the database or a transaction).
func GetActivity(ctx context.Context, q Q, org, id string) (domain.Activity, error) {
	return records.OneAs(ctx, q, "activity", row.activity, "SELECT "+columns+" FROM activities WHERE org_number = ? AND id = ?", org, id)
}

// Update replaces the activity a (matched by organiser and id) within tx.
func (s *Store) Update(ctx context.Context, tx Tx, a domain.Activity) error {
	res, err := tx.NamedExecContext(ctx, "UPDATE activities SET title = :title, kommun_code = :kommun_code, "+
		"lan_code = :lan_code, focus = :focus, capacity = :capacity, start_date = :start_date, end_date = :end_date, "+
		"update_time = :update_time, funding = :funding, programme = :programme, agreement = :agreement, "+
		"address = :address, schedule = :schedule, languages = :languages WHERE org_number = :org_number AND id = :id", toRow(a))
	if err != nil {
		return fmt.Errorf("update activity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	// Certificates carry their activity's place for the coverage picture.
	return records.Exec(ctx, tx, "update certificates' kommun", "UPDATE certificates SET kommun_code = ?, lan_code = ? "+
		"WHERE org_number = ? AND activity_id = ?", a.KommunCode, a.LanCode, a.Org, a.ID)
}

// FilterFields are the fields a list filter may name.
var FilterFields = map[string]listing.Field{
	"kommun_code": {SQL: "kommun_code"},
	"lan_code":    {SQL: "lan_code"},
	"capacity":    {SQL: "capacity", Int: true},
	"start_date":  {SQL: "start_date"},
	"end_date":    {SQL: "end_date"},
	"funding":     {SQL: "funding"},
	"title":       {SQL: "title"},
}

// ActivityOrder are the fields ListActivities may be ordered by.
var ActivityOrder = map[string]string{
	"title": "title", "kommun_code": "kommun_code", "lan_code": "lan_code", "capacity": "capacity",
	"start_date": "start_date", "end_date": "end_date", "create_time": "create_time", "update_time": "update_time",
}

// List returns a page of activities of org (all organisers when org is
// empty) matching filter, in order (an ORDER BY list of ActivityOrder
// columns; empty for none), then by name.
func (s *Store) List(ctx context.Context, org string, filter listing.Filter, order string, page listing.Page) ([]domain.Activity, error) {
	where, args := filter.SQL, filter.Args
	if org != "" {
		where = "org_number = ? AND " + where
		args = append([]any{org}, args...)
	}
	q := "SELECT " + columns + " FROM activities WHERE " + where + " ORDER BY " + order + "org_number, id LIMIT ? OFFSET ?"
	return records.AllAs(ctx, s.db, "list activities", row.activity, q, append(args, page.Limit(), page.Offset)...)
}
