// Package uow is the one way every service saves a change: a unit of work is
// one write transaction into which the handler (or the domain step it calls)
// puts the rows, the events others must learn, and the audit entries of the
// personal data it touched. They commit together or not at all, and the
// events are handed to the outbox relay after the commit. Stores take the
// transaction and never call back up into handler code.
//
// A change that carries a client request id (AIP-155 request_id) runs at
// most once: the first result is stored in the same transaction, and a
// repeat returns it instead of applying the change again, whichever
// instance of the service the repeat reaches.
package uow

import (
	"context"
	"embed"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
	"google.golang.org/protobuf/proto"

	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
)

//go:embed migrations
var migrations embed.FS

// Migrate creates the request-id table in a service's database.
func Migrate(ctx context.Context, d *sqlx.DB) error {
	if err := db.Migrate(ctx, d, db.Embedded(migrations, "migrations/"+db.Dialect(d)), "platform_uow_migrations"); err != nil {
		return fmt.Errorf("migrate request-id table: %w", err)
	}
	return nil
}

// Runner starts units of work on one service's database.
type Runner struct {
	db    *sqlx.DB
	relay *events.Relay
	trail *audit.Trail
	// writes queues this process's write transactions on SQLite, which has
	// one writer: waiting here is a queue, while waiting in SQLite's busy
	// handler is sleeping in growing steps.
	writes sync.Mutex
}

// New returns a runner. relay may be nil (no events) and trail may be nil
// (a service that holds no personal data).
func New(d *sqlx.DB, relay *events.Relay, trail *audit.Trail) *Runner {
	return &Runner{db: d, relay: relay, trail: trail}
}

// DB is the database, for reads.
func (r *Runner) DB() *sqlx.DB { return r.db }

// Trail is the service's audit trail (nil when it keeps none).
func (r *Runner) Trail() *audit.Trail { return r.trail }

// Work is one unit of work: a transaction with somewhere to put events and
// audit entries.
type Work struct {
	*sqlx.Tx
	ctx context.Context
	r   *Runner
	// published are the unit's events, handed to the relay after the
	// commit.
	published []events.Outgoing
}

// Publish adds an event to the outbox within the unit.
func (w *Work) Publish(subject string, msg proto.Message) error {
	ev, err := events.Stage(w.ctx, w.Tx, subject, msg)
	if err != nil {
		return err
	}
	w.published = append(w.published, ev)
	return nil
}

// Audit records that the caller did op on resource, which holds the
// personal data of the person with this dossier number.
func (w *Work) Audit(op, resource, dossier string) error {
	if w.r.trail == nil {
		return fmt.Errorf("uow: audit of %s without a trail", resource)
	}
	return w.r.trail.Append(w.ctx, w.Tx, w.r.trail.Entry(w.ctx, op, resource, dossier))
}

// AuditEach records op on each resource, resources[i] holding the personal
// data of dossiers[i], in one append (a batch of payments, say).
func (w *Work) AuditEach(op string, resources, dossiers []string) error {
	if w.r.trail == nil {
		return fmt.Errorf("uow: audit without a trail")
	}
	entries := make([]audit.Entry, len(resources))
	for i := range resources {
		entries[i] = w.r.trail.Entry(w.ctx, op, resources[i], dossiers[i])
	}
	return w.r.trail.Append(w.ctx, w.Tx, entries...)
}

// Do runs fn in one write transaction and commits if it returns nil.
func (r *Runner) Do(ctx context.Context, fn func(*Work) error) error {
	if db.Dialect(r.db) == db.DialectSQLite {
		r.writes.Lock()
		defer r.writes.Unlock()
	}
	w := &Work{ctx: ctx, r: r}
	err := db.InTx(ctx, r.db, func(tx *sqlx.Tx) error {
		w.Tx = tx
		return fn(w)
	})
	if err == nil && r.relay != nil {
		r.relay.Hand(w.published...)
	}
	return err
}

// Sweep runs step in units of work of their own, one batch of at most size
// rows each, until a batch has fewer than size or ctx ends, and returns how
// many rows the batches handled. A sweep over years of rows (retention) so
// never holds one long transaction, and what a batch committed stays
// committed when a later one fails. A sweep ended by ctx between batches is
// not an error: the next run finds what is left.
func (r *Runner) Sweep(ctx context.Context, size int, step func(*Work) (int, error)) (int, error) {
	total := 0
	for ctx.Err() == nil {
		var n int
		if err := r.Do(ctx, func(w *Work) error {
			var err error
			n, err = step(w)
			return err
		}); err != nil {
			return total, err
		}
		total += n
		if n < size {
			break
		}
	}
	return total, nil
}

// AuditRead records reads of personal data (one entry per dossier number)
// in a transaction of their own.
func (r *Runner) AuditRead(ctx context.Context, op, resource string, dossiers ...string) error {
	if r.trail == nil || len(dossiers) == 0 {
		return nil
	}
	entries := make([]audit.Entry, len(dossiers))
	for i, d := range dossiers {
		entries[i] = r.trail.Entry(ctx, op, resource, d)
	}
	return r.trail.Record(ctx, entries...)
}

// Request identifies one client request for Once.
type Request struct {
	// Method is the full gRPC method or another stable name of the change.
	Method string
	// ID is the client's request_id; empty means the change is not
	// deduplicated.
	ID string
}

// Once runs fn as a unit of work at most once per (method, caller,
// request id): a repeat returns the first result, decoded into a new T.
// Without a request id it is Do.
func Once[T proto.Message](ctx context.Context, r *Runner, req Request, fn func(*Work) (T, error)) (T, error) {
	var zero, out T
	if req.ID == "" {
		err := r.Do(ctx, func(w *Work) error {
			var err error
			out, err = fn(w)
			return err
		})
		return out, err
	}
	caller := callerOf(ctx)
	for attempt := 0; ; attempt++ {
		var stored []byte
		err := r.Do(ctx, func(w *Work) error {
			err := w.GetContext(ctx, &stored, w.Rebind(`SELECT response FROM request_ids WHERE method = ? AND caller = ? AND request_id = ?`), req.Method, caller, req.ID)
			if err == nil {
				return nil // a repeat: nothing to apply
			}
			stored = nil
			res, err := fn(w)
			if err != nil {
				return err
			}
			b, err := proto.Marshal(res)
			if err != nil {
				return err
			}
			if _, err := w.ExecContext(ctx, w.Rebind(`INSERT INTO request_ids (method, caller, request_id, response) VALUES (?, ?, ?, ?)`), req.Method, caller, req.ID, b); err != nil {
				return err
			}
			out = res
			return nil
		})
		switch {
		case err == nil && stored != nil:
			res := zero.ProtoReflect().New().Interface().(T)
			if err := proto.Unmarshal(stored, res); err != nil {
				return zero, fmt.Errorf("uow: decode the stored result of request %s: %w", req.ID, err)
			}
			return res, nil
		case err == nil:
			return out, nil
		case db.IsUniqueViolation(err) && attempt == 0:
			// The same request ran concurrently and committed first: read
			// its result on the next turn.
			continue
		default:
			return zero, err
		}
	}
}

// callerOf names the caller for request-id scoping: the same id from two
// callers is two requests.
func callerOf(ctx context.Context) string {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return "anonymous"
	}
	return string(p.Role) + "/" + p.Subject + "/" + p.Lan + p.Org + p.Dossier
}
