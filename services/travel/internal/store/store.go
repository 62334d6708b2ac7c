// Package store keeps the travel service's route decisions in its own
// database through sqlx. Queries are written with ? placeholders and rebound
// for the driver, so the same code runs on PostgreSQL and SQLite.
package store

import (
	"context"
	"embed"
	"fmt"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
	"github.com/tia-platform/tia/services/travel/internal/domain"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the service's tables, applied at start.
var Migrations = db.Embedded(migrations, "migrations")

// ErrNotFound is returned for a row that does not exist (the shared kind,
// so that the service's error table maps it to NOT_FOUND).
var ErrNotFound = apierr.ErrNotFound

// Store reads the service's tables and writes them within the transaction
// of a unit of work (package uow) that the caller opened: every write takes
// that transaction and never calls back into the caller.
type Store struct {
	db *sqlx.DB
}

// New returns a store on a migrated database.
func New(d *sqlx.DB) *Store { return &Store{db: d} }

type row struct {
	ID             string  `db:"id"`
	FromKommunCode string  `db:"from_kommun_code"`
	ToKommunCode   string  `db:"to_kommun_code"`
	ValidFrom      string  `db:"valid_from"`
	ValidTo        string  `db:"valid_to"`
	Reason         string  `db:"reason"`
	DistanceKm     float64 `db:"distance_km"`
	CreateTime     string  `db:"create_time"`
	RevokedFrom    string  `db:"revoked_from"`
	Consultation   string  `db:"consultation"`
}

const columns = "id, from_kommun_code, to_kommun_code, valid_from, valid_to, reason, distance_km, create_time, revoked_from, consultation"

func toRow(r domain.Route) row {
	return row{
		ID: r.ID, FromKommunCode: r.FromKommunCode, ToKommunCode: r.ToKommunCode,
		ValidFrom: r.ValidFrom, ValidTo: r.ValidTo, Reason: r.Reason, DistanceKm: r.DistanceKm,
		CreateTime:  r.CreateTime.UTC().Format(time.RFC3339Nano),
		RevokedFrom: r.RevokedFrom, Consultation: r.Consultation,
	}
}

func (r row) route() domain.Route {
	created, _ := time.Parse(time.RFC3339Nano, r.CreateTime)
	return domain.Route{
		ID: r.ID, FromKommunCode: r.FromKommunCode, ToKommunCode: r.ToKommunCode,
		ValidFrom: r.ValidFrom, ValidTo: r.ValidTo, Reason: r.Reason, DistanceKm: r.DistanceKm,
		CreateTime: created, RevokedFrom: r.RevokedFrom, Consultation: r.Consultation,
	}
}

// CreateRoute inserts r and its two ends within tx.
func CreateRoute(ctx context.Context, tx *sqlx.Tx, r domain.Route) error {
	_, err := tx.NamedExecContext(ctx, "INSERT INTO routes ("+columns+") VALUES ("+
		":id, :from_kommun_code, :to_kommun_code, :valid_from, :valid_to, :reason, :distance_km, :create_time, :revoked_from, :consultation)", toRow(r))
	if err != nil {
		return fmt.Errorf("insert route: %w", err)
	}
	_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO route_ends (kommun_code, route_id) VALUES (?, ?), (?, ?)"),
		r.FromKommunCode, r.ID, r.ToKommunCode, r.ID)
	if err != nil {
		return fmt.Errorf("insert route ends: %w", err)
	}
	return nil
}

// LockRoute reads the route id under a lock on its row within tx.
func (s *Store) LockRoute(ctx context.Context, tx *sqlx.Tx, id string) (domain.Route, error) {
	return records.OneAs(ctx, tx, "route", row.route, "SELECT "+columns+" FROM routes WHERE id = ?"+forUpdate(s.db), id)
}

// SaveRevocation stores the end of a revoked route within tx.
func SaveRevocation(ctx context.Context, tx *sqlx.Tx, r domain.Route) error {
	return records.Exec(ctx, tx, "revoke route", "UPDATE routes SET valid_to = ?, revoked_from = ? WHERE id = ?", r.ValidTo, r.RevokedFrom, r.ID)
}

// RouteApproved reports whether an approved route joins kommuner a and b
// (either direction) on date.
func RouteApproved(ctx context.Context, q queryer, a, b, date string) (bool, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, q.Rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM routes
		WHERE ((from_kommun_code = ? AND to_kommun_code = ?) OR (from_kommun_code = ? AND to_kommun_code = ?))
		AND valid_from <= ? AND valid_to >= ? LIMIT 1) AS route`), a, b, b, a, date, date)
	if err != nil {
		return false, fmt.Errorf("find route: %w", err)
	}
	return n > 0, nil
}

// forUpdate locks the rows read on PostgreSQL; SQLite has one writer and
// needs no lock.
func forUpdate(d *sqlx.DB) string {
	if db.Dialect(d) == db.DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// Get returns one route.
func (s *Store) Get(ctx context.Context, id string) (domain.Route, error) {
	return records.OneAs(ctx, s.db, "route", row.route, "SELECT "+columns+" FROM routes WHERE id = ?", id)
}

// eitherEnd stands in the filter SQL for the kommun_code field until List
// rewrites it. It is not valid SQL, so a comparison that escaped the rewrite
// would fail loudly rather than match the wrong routes.
const eitherEnd = "{either_end}"

// eitherEndComparison matches what listing writes for one comparison of
// kommun_code: the field's SQL, the operator and one bind parameter.
var eitherEndComparison = regexp.MustCompile(regexp.QuoteMeta(eitherEnd) + ` (=|<>|<=|>=|<|>) \?`)

// FilterFields are the fields a list filter may name. kommun_code matches a
// route with that kommun at either end, which one SQL expression compared
// with one value cannot say; List turns each such comparison into a lookup
// in route_ends, keeping the one bind parameter listing gave it.
var FilterFields = map[string]listing.Field{
	"kommun_code":      {SQL: eitherEnd, Check: listing.Kommun},
	"from_kommun_code": {SQL: "from_kommun_code", Check: listing.Kommun},
	"to_kommun_code":   {SQL: "to_kommun_code", Check: listing.Kommun},
	"valid_from":       {SQL: "valid_from", Kind: listing.Date},
	"valid_to":         {SQL: "valid_to", Kind: listing.Date},
}

// List returns a page of routes matching filter, oldest decision first (ids
// are UUIDv7, which sort by creation time).
//
// Each comparison of kommun_code holds when it holds for some end of the
// route, so `kommun_code = "0180"` finds the routes touching 0180,
// `NOT kommun_code = "0180"` those not touching it, and
// `kommun_code = "0180" AND kommun_code = "2584"` the routes between the two.
func (s *Store) List(ctx context.Context, filter listing.Filter, page listing.Page) ([]domain.Route, error) {
	where := eitherEndComparison.ReplaceAllString(filter.SQL,
		"EXISTS (SELECT 1 FROM route_ends e WHERE e.route_id = routes.id AND e.kommun_code $1 ?)")
	q := "SELECT " + columns + " FROM routes WHERE " + where + " ORDER BY id LIMIT ? OFFSET ?"
	return records.AllAs(ctx, s.db, "list routes", row.route, q, append(filter.Args, page.Limit(), page.Offset)...)
}

// queryer is a database or a transaction.
type queryer = records.Queryer
