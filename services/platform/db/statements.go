package db

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Statements runs the reads of a store's hot paths (one activity, the public
// catalogue) through statements prepared once per query text and kept, so a
// request does not parse its SQL again: on SQLite, preparing was about a
// fifth of the CPU of the REST GET of one activity (make profile). A kept
// *sql.Stmt is prepared on each pooled connection the first time it runs
// there and reused after that (database/sql); pgx caches statements per
// connection by itself, where this costs nothing more.
//
// It is a sqlx.ExtContext, so code that reads from "the database or a
// transaction" takes it in place of the database. Writes (ExecContext) pass
// through unprepared: they belong in units of work.
type Statements struct {
	db *sqlx.DB

	mu    sync.RWMutex
	stmts map[string]*sqlx.Stmt
}

// MaxStatements bounds how many statements are kept; a query beyond them
// runs unprepared (kept statements are never closed while in use, so none is
// evicted).
const MaxStatements = 256

// NewStatements returns an empty set of statements on d.
func NewStatements(d *sqlx.DB) *Statements {
	return &Statements{db: d, stmts: map[string]*sqlx.Stmt{}}
}

// stmt is the kept statement of query, prepared now if it is new; nil when
// the set is full or preparing failed (the caller then runs the query
// unprepared, and gets the database's error from that).
func (s *Statements) stmt(ctx context.Context, query string) *sqlx.Stmt {
	s.mu.RLock()
	st, ok := s.stmts[query]
	full := len(s.stmts) >= MaxStatements
	s.mu.RUnlock()
	if ok || full {
		return st
	}
	st, err := s.db.PreparexContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if kept, ok := s.stmts[query]; ok {
		_ = st.Close() // prepared twice at once: keep the first
		return kept
	}
	if len(s.stmts) >= MaxStatements {
		_ = st.Close()
		return nil
	}
	s.stmts[query] = st
	return st
}

// QueryContext runs query through its kept statement.
func (s *Statements) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, query, args...)
}

// QueryxContext runs query through its kept statement.
func (s *Statements) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryxContext(ctx, args...)
	}
	return s.db.QueryxContext(ctx, query, args...)
}

// QueryRowxContext runs query through its kept statement.
func (s *Statements) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return s.db.QueryRowxContext(ctx, query, args...)
}

// ExecContext runs query on the database, unprepared.
func (s *Statements) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, query, args...)
}

// DriverName, Rebind and BindNamed are the database's.
func (s *Statements) DriverName() string         { return s.db.DriverName() }
func (s *Statements) Rebind(query string) string { return s.db.Rebind(query) }
func (s *Statements) BindNamed(query string, arg any) (string, []any, error) {
	return s.db.BindNamed(query, arg)
}

// Len is how many statements are kept.
func (s *Statements) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.stmts)
}

var _ sqlx.ExtContext = (*Statements)(nil)
