// Package records reads and writes the rows of a service's store the same
// way in every service: queries are written with ? placeholders and rebound
// for the driver, a missing row is apierr.ErrNotFound (which every service's
// error table maps), and other errors name what was read or written. A store
// keeps its own row structs and their conversion to domain values; the *As
// functions take that conversion, usually a method expression such as
// row.activity.
package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/db"
)

// Queryer is a database, a transaction or kept statements, for reads.
type Queryer interface {
	sqlx.QueryerContext
	Rebind(string) string
}

// Execer is a database or a transaction, for writes.
type Execer interface {
	sqlx.ExecerContext
	Rebind(string) string
}

// One reads the one row query selects: apierr.ErrNotFound when there is
// none; what names the row in other errors ("get what: ...").
func One[T any](ctx context.Context, q Queryer, what, query string, args ...any) (T, error) {
	var row T
	err := sqlx.GetContext(ctx, q, &row, q.Rebind(query), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return row, apierr.ErrNotFound
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("get %s: %w", what, err)
	}
	return row, nil
}

// OneAs reads the one row query selects as an R, as One does, and returns
// it converted.
func OneAs[R, T any](ctx context.Context, q Queryer, what string, conv func(R) T, query string, args ...any) (T, error) {
	r, err := One[R](ctx, q, what, query, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	return conv(r), nil
}

// All reads the rows query selects (nil for none); what names them in
// errors.
func All[T any](ctx context.Context, q Queryer, what, query string, args ...any) ([]T, error) {
	var out []T
	if err := sqlx.SelectContext(ctx, q, &out, q.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// AllAs reads the rows query selects as Rs, as All does, and returns them
// converted (empty, not nil, for none).
func AllAs[R, T any](ctx context.Context, q Queryer, what string, conv func(R) T, query string, args ...any) ([]T, error) {
	rows, err := All[R](ctx, q, what, query, args...)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = conv(r)
	}
	return out, nil
}

// Exec runs a write; what names it in errors.
func Exec(ctx context.Context, x Execer, what, query string, args ...any) error {
	if _, err := x.ExecContext(ctx, x.Rebind(query), args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ExecOne runs a write of one row (an UPDATE or DELETE by key):
// apierr.ErrNotFound when it matched none; what names it in errors.
func ExecOne(ctx context.Context, x Execer, what, query string, args ...any) error {
	res, err := x.ExecContext(ctx, x.Rebind(query), args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apierr.ErrNotFound
	}
	return nil
}

// Inserted is the outcome of an INSERT that failed with err (nil when it
// did not): exists when the row would repeat a unique key, err named by what
// otherwise.
func Inserted(err, exists error, what string) error {
	if db.IsUniqueViolation(err) {
		return exists
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
