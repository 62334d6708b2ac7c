// Package store keeps the notification service's inboxes in its own database.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/listing"
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

// ErrNotFound is returned for a message that does not exist.
var ErrNotFound = errors.New("not found")

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
}

const columns = "recipient, id, topic, title, body, event_id, event_type, subject_resource, create_time, read_time, language"

// Store reads and writes inboxes.
type Store struct{ db *sqlx.DB }

// New returns a store on a migrated database.
func New(d *sqlx.DB) *Store { return &Store{db: d} }

const deliverSQL = "INSERT INTO messages (" + columns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) " +
	"ON CONFLICT (recipient, event_id) DO NOTHING"

// Deliver puts m in its recipient's inbox within tx, unless a message for the
// same event is already there; inserted says whether it was put there now.
func Deliver(ctx context.Context, tx *sqlx.Tx, m Message) (inserted bool, err error) {
	if m.CreateTime == "" {
		m.CreateTime = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if m.Language == "" {
		m.Language = "sv"
	}
	// UNIQUE (recipient, event_id) decides: a second message for the same
	// event affects no row.
	res, err := tx.ExecContext(ctx, tx.Rebind(deliverSQL), m.Recipient, m.ID, m.Topic, m.Title, m.Body, m.EventID, m.EventType,
		m.SubjectResource, m.CreateTime, m.ReadTime, m.Language)
	if err != nil {
		return false, fmt.Errorf("deliver message: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("deliver message: %w", err)
	}
	return n == 1, nil
}

// MarkRead sets a message's read time unless it is set already, and
// returns the message.
func (s *Store) MarkRead(ctx context.Context, recipient, id string, now time.Time) (Message, error) {
	_, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE messages SET read_time = ? WHERE recipient = ? AND id = ? AND read_time IS NULL"),
		now.UTC().Format(time.RFC3339Nano), recipient, id)
	if err != nil {
		return Message{}, fmt.Errorf("mark read: %w", err)
	}
	return s.Get(ctx, recipient, id)
}

// CountUnread counts a recipient's unread messages.
func (s *Store) CountUnread(ctx context.Context, recipient string) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, s.db.Rebind("SELECT COUNT(*) FROM messages WHERE recipient = ? AND read_time IS NULL"), recipient)
	if err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	return n, nil
}

// DB is the store's database, for transactions that span several writes.
func (s *Store) DB() *sqlx.DB { return s.db }

// List returns a page of a recipient's messages, newest first.
func (s *Store) List(ctx context.Context, recipient string, page listing.Page) ([]Message, error) {
	var out []Message
	q := s.db.Rebind("SELECT " + columns + " FROM messages WHERE recipient = ? ORDER BY create_time DESC, id DESC LIMIT ? OFFSET ?")
	if err := s.db.SelectContext(ctx, &out, q, recipient, page.Limit(), page.Offset); err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return out, nil
}

// Get returns one message.
func (s *Store) Get(ctx context.Context, recipient, id string) (Message, error) {
	var m Message
	err := s.db.GetContext(ctx, &m, s.db.Rebind("SELECT "+columns+" FROM messages WHERE recipient = ? AND id = ?"), recipient, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, ErrNotFound
	}
	if err != nil {
		return Message{}, fmt.Errorf("get message: %w", err)
	}
	return m, nil
}
