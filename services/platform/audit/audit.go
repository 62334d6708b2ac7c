// Package audit keeps the trail of who read or changed whose personal data,
// in each service that holds such data (GDPR art. 5(2), 15 and 30): every
// read and every change of a certificate, a claim, a payment file or a
// claimant's inbox appends one entry. An entry names who (subject, role,
// scope), what (the resource and the pseudonymised person), which operation,
// when, and the trace id that ties it to the request's log lines.
//
// The trail is append-only and tamper-evident: each entry carries the
// SHA-256 of its fields and of the entry before it, so editing, deleting or
// reordering an entry breaks the chain, which Verify reports. Appends take
// the row lock of audit_head, which orders concurrent writers into one chain.
//
// Retention deletes the oldest entries; the chain then starts at the oldest
// one kept (its prev_hash is the anchor), and Verify checks from there.
package audit

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"go.opentelemetry.io/otel/trace"

	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/pseudonym"
)

// migrations are the same SQL on PostgreSQL and SQLite.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates the audit tables in a service's database.
func Migrate(ctx context.Context, d *sqlx.DB) error {
	if err := db.Migrate(ctx, d, db.Embedded(migrations, "migrations"), "platform_audit_migrations"); err != nil {
		return fmt.Errorf("migrate audit tables: %w", err)
	}
	return nil
}

// Operations recorded.
const (
	OpRead   = "read"
	OpList   = "list"
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
	// OpAnonymise is the retention job removing personal data.
	OpAnonymise = "anonymise"
)

// Entry is one line of the trail.
type Entry struct {
	Seq       int64  `db:"seq"`
	At        string `db:"at"` // RFC 3339, UTC
	Subject   string `db:"subject"`
	Role      string `db:"role"`
	Scope     string `db:"scope"`
	Operation string `db:"operation"`
	Resource  string `db:"resource"`
	// Person is the pseudonym of the person whose data it is.
	Person   string `db:"person"`
	TraceID  string `db:"trace_id"`
	PrevHash string `db:"prev_hash"`
	Hash     string `db:"hash"`
}

// Trail appends to and reads one service's trail.
type Trail struct {
	db  *sqlx.DB
	key *pseudonym.Keyer
	now func() time.Time
}

// New returns the trail in d; key pseudonymises dossier numbers.
func New(d *sqlx.DB, key *pseudonym.Keyer) *Trail {
	return &Trail{db: d, key: key, now: time.Now}
}

// Pseudonym returns the id under which a dossier number's entries are kept.
func (t *Trail) Pseudonym(dossier string) string { return t.key.Of(dossier) }

// Entry builds an entry for the caller in ctx: operation op on resource,
// concerning the person with the given dossier number. A caller who is a
// person (an asylum seeker) is recorded by pseudonym too.
func (t *Trail) Entry(ctx context.Context, op, resource, dossier string) Entry {
	e := Entry{Operation: op, Resource: resource, Person: t.key.Of(dossier), Subject: "system", Role: "system"}
	if p, ok := auth.FromContext(ctx); ok {
		e.Role = string(p.Role)
		e.Subject = p.Subject
		switch {
		case p.Dossier != "":
			e.Subject = "person:" + t.key.Of(p.Dossier)
			e.Scope = "person:" + t.key.Of(p.Dossier)
		case p.Lan != "":
			e.Scope = "lan:" + p.Lan
		case p.Org != "":
			e.Scope = "org:" + p.Org
		}
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		e.TraceID = sc.TraceID().String()
	}
	return e
}

// Append adds entries within tx (the transaction of the change they record,
// or one of their own for reads).
func (t *Trail) Append(ctx context.Context, tx *sqlx.Tx, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	postgres := db.Dialect(t.db) == db.DialectPostgres
	lock := ""
	if postgres {
		lock = " FOR UPDATE"
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash string `db:"hash"`
	}
	if err := tx.GetContext(ctx, &head, "SELECT seq, hash FROM audit_head WHERE id = 1"+lock); err != nil {
		return fmt.Errorf("audit: read head: %w", err)
	}
	at := t.now().UTC().Format(time.RFC3339Nano)
	chained := make([]Entry, len(entries))
	for i, e := range entries {
		head.Seq++
		e.Seq, e.At, e.PrevHash = head.Seq, at, head.Hash
		e.Hash = e.digest()
		head.Hash = e.Hash
		chained[i] = e
	}
	if postgres {
		// PostgreSQL: one insert of eleven arrays, however many entries (a
		// payment run records thousands per transaction), instead of
		// eleven parameters per entry to bind and plan.
		cols := make([][]string, 10)
		for j := range cols {
			cols[j] = make([]string, 0, len(chained))
		}
		seqs := make([]int64, len(chained))
		for i, e := range chained {
			seqs[i] = e.Seq
			for j, v := range []string{e.At, e.Subject, e.Role, e.Scope, e.Operation, e.Resource, e.Person, e.TraceID, e.PrevHash, e.Hash} {
				cols[j] = append(cols[j], v)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log
			(seq, at, subject, role, scope, operation, resource, person, trace_id, prev_hash, hash)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
				$7::text[], $8::text[], $9::text[], $10::text[], $11::text[])`,
			seqs, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9]); err != nil {
			return fmt.Errorf("audit: append: %w", err)
		}
		chained = nil
	}
	// Elsewhere one multi-row insert per chunk.
	for len(chained) > 0 {
		n := min(len(chained), 1000)
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO audit_log
			(seq, at, subject, role, scope, operation, resource, person, trace_id, prev_hash, hash) VALUES
			(:seq, :at, :subject, :role, :scope, :operation, :resource, :person, :trace_id, :prev_hash, :hash)`, chained[:n]); err != nil {
			return fmt.Errorf("audit: append: %w", err)
		}
		chained = chained[n:]
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"), head.Seq, head.Hash); err != nil {
		return fmt.Errorf("audit: move head: %w", err)
	}
	return nil
}

// Record appends entries in a transaction of their own: for reads, which
// change nothing else.
func (t *Trail) Record(ctx context.Context, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return db.InTx(ctx, t.db, func(tx *sqlx.Tx) error { return t.Append(ctx, tx, entries...) })
}

func (e Entry) digest() string {
	h := sha256.New()
	for _, f := range []string{fmt.Sprint(e.Seq), e.At, e.Subject, e.Role, e.Scope, e.Operation, e.Resource, e.Person, e.TraceID, e.PrevHash} {
		// Length-prefixed, so no two field lists hash alike.
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ListByPerson returns the entries about one person (by dossier number),
// oldest first, after seq after, at most limit.
func (t *Trail) ListByPerson(ctx context.Context, dossier string, after int64, limit int) ([]Entry, error) {
	var out []Entry
	err := t.db.SelectContext(ctx, &out, t.db.Rebind(`SELECT seq, at, subject, role, scope, operation, resource, person, trace_id, prev_hash, hash
		FROM audit_log WHERE person = ? AND seq > ? ORDER BY seq LIMIT ?`), t.key.Of(dossier), after, limit)
	return out, err
}

// Report is the outcome of Verify.
type Report struct {
	// Checked is the number of entries read.
	Checked int64
	// BrokenAt is the seq of the first entry whose hash or link does not
	// hold (0: the chain is whole).
	BrokenAt int64
	// Reason says what is wrong at BrokenAt.
	Reason string
}

// OK reports whether the chain is whole.
func (r Report) OK() bool { return r.BrokenAt == 0 }

// Verify walks the whole trail and reports the first broken link.
func (t *Trail) Verify(ctx context.Context) (Report, error) {
	var rep Report
	rows, err := t.db.QueryxContext(ctx, `SELECT seq, at, subject, role, scope, operation, resource, person, trace_id, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return rep, err
	}
	defer rows.Close()
	var prev *Entry
	for rows.Next() {
		var e Entry
		if err := rows.StructScan(&e); err != nil {
			return rep, err
		}
		rep.Checked++
		switch {
		case e.digest() != e.Hash:
			rep.BrokenAt, rep.Reason = e.Seq, "the entry's content does not match its hash"
		case prev != nil && e.Seq != prev.Seq+1:
			rep.BrokenAt, rep.Reason = e.Seq, fmt.Sprintf("entries %d to %d are missing", prev.Seq+1, e.Seq-1)
		case prev != nil && e.PrevHash != prev.Hash:
			rep.BrokenAt, rep.Reason = e.Seq, "the entry does not link to the one before it"
		}
		if rep.BrokenAt != 0 {
			return rep, nil
		}
		prev = &e
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash string `db:"hash"`
	}
	if err := t.db.GetContext(ctx, &head, "SELECT seq, hash FROM audit_head WHERE id = 1"); err != nil {
		return rep, err
	}
	if prev != nil && (head.Seq != prev.Seq || head.Hash != prev.Hash) {
		rep.BrokenAt, rep.Reason = head.Seq, "the newest entries are missing"
	}
	return rep, nil
}

// Prune deletes entries older than before (retention), keeping the chain
// verifiable from the oldest entry left.
func (t *Trail) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.db.ExecContext(ctx, t.db.Rebind("DELETE FROM audit_log WHERE at < ?"), before.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
