// Package store keeps the notification service's inboxes in its own database.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the service's tables, applied at start.
var Migrations = func() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}()

// ErrNotFound is returned for a row that does not exist; the service's
// error table maps it (apierr).
var ErrNotFound = apierr.ErrNotFound

// Tx is where a change is written: the unit of work's transaction (or the
// event consumer's).
type Tx = sqlx.ExtContext

// Message is one inbox row.
type Message struct {
	Recipient       string         `db:"recipient"`
	ID              string         `db:"id"`
	Topic           string         `db:"topic"`
	Title           string         `db:"title"`
	Body            string         `db:"body"`
	EventID         string         `db:"event_id"`
	EventType       string         `db:"event_type"`
	SubjectResource string         `db:"subject_resource"`
	CreateTime      string         `db:"create_time"`
	ReadTime        sql.NullString `db:"read_time"`
	Language        string         `db:"language"`
	// Lan is the län of a county board's or Migrationsverket's regional
	// inbox, "" for others.
	Lan string `db:"lan"`
}

const columns = "recipient, id, topic, title, body, event_id, event_type, subject_resource, create_time, read_time, language, lan"

// Store reads and writes inboxes.
type Store struct{ db *sqlx.DB }

// New returns a store on a migrated database.
func New(d *sqlx.DB) *Store { return &Store{db: d} }

// deliverRows bounds the messages one INSERT writes: 12 parameters each
// stay far below SQLite's and PostgreSQL's limits on a statement's
// parameters.
const deliverRows = 500

// Deliver puts m in its recipient's inbox within tx, unless a message for the
// same event is already there; inserted says whether it was put there now.
func Deliver(ctx context.Context, tx Tx, m Message) (inserted bool, err error) {
	done, err := DeliverAll(ctx, tx, []Message{m})
	return done[m.ID], err
}

// DeliverAll puts messages in their recipients' inboxes within tx, in one
// statement per 500, each unless its recipient already has a message for
// the same event (UNIQUE (recipient, event_id) decides, also between the
// messages given). It returns the ids of the messages it put there.
func DeliverAll(ctx context.Context, tx Tx, msgs []Message) (inserted map[string]bool, err error) {
	inserted = make(map[string]bool, len(msgs))
	for chunk := range slices.Chunk(msgs, deliverRows) {
		rows := slices.Clone(chunk)
		for i := range rows {
			if rows[i].CreateTime == "" {
				rows[i].CreateTime = time.Now().UTC().Format(time.RFC3339Nano)
			}
			if rows[i].Language == "" {
				rows[i].Language = "sv"
			}
		}
		q, args, err := sqlx.Named("INSERT INTO messages ("+columns+") VALUES "+
			"(:recipient, :id, :topic, :title, :body, :event_id, :event_type, :subject_resource, :create_time, :read_time, :language, :lan) "+
			"ON CONFLICT (recipient, event_id) DO NOTHING RETURNING id", rows)
		if err != nil {
			return nil, fmt.Errorf("deliver %d messages: %w", len(rows), err)
		}
		var ids []string
		if err := sqlx.SelectContext(ctx, tx, &ids, tx.Rebind(q), args...); err != nil {
			return nil, fmt.Errorf("deliver %d messages: %w", len(rows), err)
		}
		for _, id := range ids {
			inserted[id] = true
		}
	}
	return inserted, nil
}

// MarkRead sets a message's read time within tx unless it is set already,
// and returns the message.
func MarkRead(ctx context.Context, tx Tx, recipient, id string, now time.Time) (Message, error) {
	_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE messages SET read_time = ? WHERE recipient = ? AND id = ? AND read_time IS NULL"),
		now.UTC().Format(time.RFC3339Nano), recipient, id)
	if err != nil {
		return Message{}, fmt.Errorf("mark read: %w", err)
	}
	return get(ctx, tx, recipient, id)
}

// CountUnread counts the unread messages of some recipients that match
// filter.
func (s *Store) CountUnread(ctx context.Context, recipients []string, filter listing.Filter) (int64, error) {
	var n int64
	where, args, err := inRecipients(recipients, filter)
	if err != nil {
		return 0, err
	}
	err = s.db.GetContext(ctx, &n, s.db.Rebind("SELECT COUNT(*) FROM messages WHERE "+where+" AND read_time IS NULL"), args...)
	if err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	return n, nil
}

// DB is the store's database, for reads.
func (s *Store) DB() *sqlx.DB { return s.db }

// List returns a page of the messages of some recipients (one inbox, or
// Migrationsverket's national view over its regional ones), newest first,
// that match filter.
func (s *Store) List(ctx context.Context, recipients []string, filter listing.Filter, page listing.Page) ([]Message, error) {
	where, args, err := inRecipients(recipients, filter)
	if err != nil {
		return nil, err
	}
	return records.All[Message](ctx, s.db, "list messages",
		"SELECT "+columns+" FROM messages WHERE "+where+" ORDER BY create_time DESC, id DESC LIMIT ? OFFSET ?", append(args, page.Limit(), page.Offset)...)
}

// MessageFilter are the fields a list of messages can be filtered on:
// lan_code is the län of a county board's or Migrationsverket's regional
// inbox (Migrationsverket's national view spans them).
var MessageFilter = map[string]listing.Field{
	"lan_code": {SQL: "lan"},
	"topic":    {SQL: "topic"},
}

func inRecipients(recipients []string, filter listing.Filter) (string, []any, error) {
	q, args, err := sqlx.In("recipient IN (?)", recipients)
	if err != nil {
		return "", nil, err
	}
	if filter.SQL == "" {
		filter.SQL = "1=1"
	}
	return q + " AND (" + filter.SQL + ")", append(args, filter.Args...), nil
}

// Get returns one message.
func (s *Store) Get(ctx context.Context, recipient, id string) (Message, error) {
	return get(ctx, s.db, recipient, id)
}

func get(ctx context.Context, q Tx, recipient, id string) (Message, error) {
	return records.One[Message](ctx, q, "message", "SELECT "+columns+" FROM messages WHERE recipient = ? AND id = ?", recipient, id)
}
