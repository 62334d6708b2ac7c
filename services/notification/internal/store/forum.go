package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/notification/internal/routing"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
)

// ErrExists is returned when creating something that exists.
var ErrExists = apierr.ErrAlreadyExists

// Member is a member of the regional forum of a län.
type Member struct {
	Lan         string `db:"lan"`
	Recipient   string `db:"recipient"`
	DisplayName string `db:"display_name"`
	CreateTime  string `db:"create_time"`
}

// CreateMember adds a forum member within tx.
func CreateMember(ctx context.Context, tx Tx, m Member) error {
	_, err := sqlx.NamedExecContext(ctx, tx, "INSERT INTO forum_members (lan, recipient, display_name, create_time) VALUES (:lan, :recipient, :display_name, :create_time)", m)
	return records.Inserted(err, ErrExists, "add forum member")
}

// ListMembers lists a page of a forum's members.
func (s *Store) ListMembers(ctx context.Context, lan string, page listing.Page) ([]Member, error) {
	return records.All[Member](ctx, s.db, "list forum members",
		"SELECT lan, recipient, display_name, create_time FROM forum_members WHERE lan = ? ORDER BY recipient LIMIT ? OFFSET ?", lan, page.Limit(), page.Offset)
}

// IsMember reports whether recipient sits in the forum of lan.
func (s *Store) IsMember(ctx context.Context, lan, recipient string) (bool, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.db.Rebind("SELECT COUNT(*) FROM forum_members WHERE lan = ? AND recipient = ?"), lan, recipient)
	if err != nil {
		return false, fmt.Errorf("forum membership: %w", err)
	}
	return n > 0, nil
}

// DeleteMember removes a forum member within tx.
func DeleteMember(ctx context.Context, tx Tx, lan, recipient string) error {
	return records.ExecOne(ctx, tx, "remove forum member", "DELETE FROM forum_members WHERE lan = ? AND recipient = ?", lan, recipient)
}

// Directory answers routing's questions about groups of recipients from
// this service's tables, within a transaction or on the database; People
// names persons' inboxes.
type Directory struct {
	Q Queryer
	routing.People
}

// ForumMembers are the members of the forum of lan.
func (d Directory) ForumMembers(ctx context.Context, lan string) ([]string, error) {
	var out []string
	err := sqlx.SelectContext(ctx, d.Q, &out, d.Q.Rebind("SELECT recipient FROM forum_members WHERE lan = ? ORDER BY recipient"), lan)
	return out, err
}

// Organisers are the organisers that registered activities in lan, name a
// contact there, or sit in its forum.
func (d Directory) Organisers(ctx context.Context, lan string) ([]string, error) {
	var out []string
	err := sqlx.SelectContext(ctx, d.Q, &out, d.Q.Rebind(
		"SELECT organiser FROM feed_activities WHERE lan_code = ? AND organiser <> '' UNION "+
			"SELECT recipient FROM active_organisers WHERE lan = ? UNION "+
			"SELECT recipient FROM forum_members WHERE lan = ? AND recipient LIKE 'organiser-%' ORDER BY 1"), lan, lan, lan)
	return out, err
}

// Meeting is a forum meeting; Agenda and Feedback are JSON.
type Meeting struct {
	Lan        string `db:"lan"`
	ID         string `db:"id"`
	Title      string `db:"title"`
	Level      int32  `db:"level"`
	StartTime  string `db:"start_time"`
	EndTime    string `db:"end_time"`
	Location   string `db:"location"`
	Agenda     string `db:"agenda"`
	Minutes    string `db:"minutes"`
	Feedback   string `db:"feedback"`
	CreateTime string `db:"create_time"`
	UpdateTime string `db:"update_time"`
}

const meetingColumns = "lan, id, title, level, start_time, end_time, location, agenda, minutes, feedback, create_time, update_time"

// CreateMeeting stores a meeting within tx (with its invitations).
func CreateMeeting(ctx context.Context, tx Tx, m Meeting) error {
	_, err := sqlx.NamedExecContext(ctx, tx, "INSERT INTO meetings ("+meetingColumns+") VALUES "+
		"(:lan, :id, :title, :level, :start_time, :end_time, :location, :agenda, :minutes, :feedback, :create_time, :update_time)", m)
	return records.Inserted(err, ErrExists, "create meeting")
}

// GetMeeting returns one meeting.
func GetMeeting(ctx context.Context, q Queryer, lan, id string) (Meeting, error) {
	return records.One[Meeting](ctx, q, "meeting", "SELECT "+meetingColumns+" FROM meetings WHERE lan = ? AND id = ?", lan, id)
}

// UpdateMeeting replaces a meeting's fields within tx.
func UpdateMeeting(ctx context.Context, tx Tx, m Meeting) error {
	_, err := sqlx.NamedExecContext(ctx, tx, "UPDATE meetings SET title = :title, level = :level, start_time = :start_time, end_time = :end_time, "+
		"location = :location, agenda = :agenda, minutes = :minutes, feedback = :feedback, update_time = :update_time WHERE lan = :lan AND id = :id", m)
	if err != nil {
		return fmt.Errorf("update meeting: %w", err)
	}
	return nil
}

// ListMeetings lists a page of a län's meetings by start time.
func (s *Store) ListMeetings(ctx context.Context, lan string, limit int, offset int64) ([]Meeting, error) {
	return records.All[Meeting](ctx, s.db, "list meetings",
		"SELECT "+meetingColumns+" FROM meetings WHERE lan = ? ORDER BY start_time, id LIMIT ? OFFSET ?", lan, limit, offset)
}

// Contact is one entry of a län's contact directory.
type Contact struct {
	Lan              string `db:"lan"`
	ID               string `db:"id"`
	Actor            string `db:"actor"`
	ActorDisplayName string `db:"actor_display_name"`
	Purpose          string `db:"purpose"`
	PersonName       string `db:"person_name"`
	Email            string `db:"email"`
	Phone            string `db:"phone"`
	Public           int    `db:"is_public"` // 1: participant-facing
	CreateTime       string `db:"create_time"`
}

const contactColumns = "lan, id, actor, actor_display_name, purpose, person_name, email, phone, is_public, create_time"

// CreateContact stores a contact within tx.
func CreateContact(ctx context.Context, tx Tx, c Contact) error {
	_, err := sqlx.NamedExecContext(ctx, tx, "INSERT INTO contacts ("+contactColumns+") VALUES "+
		"(:lan, :id, :actor, :actor_display_name, :purpose, :person_name, :email, :phone, :is_public, :create_time)", c)
	if err != nil {
		return fmt.Errorf("create contact: %w", err)
	}
	return nil
}

// ListContacts lists a län's contact directory by actor: the contacts
// entered here and the participant contacts organisers keep in the
// activity registry (RegistryContactPrefix ids); only the public ones when
// publicOnly.
func (s *Store) ListContacts(ctx context.Context, lan string, publicOnly bool, page listing.Page) ([]Contact, error) {
	where := "lan = ?"
	if publicOnly {
		where += " AND is_public = 1"
	}
	return records.All[Contact](ctx, s.db, "list contacts", "SELECT "+contactColumns+" FROM contacts WHERE "+where+" UNION ALL "+
		"SELECT lan, '"+RegistryContactPrefix+"' || organiser || '-' || CAST(position AS TEXT), 'organiser-' || organiser, actor_display_name, "+
		"'"+RegistryContactPurpose+"', person_name, email, phone, 1, '' FROM registry_contacts WHERE lan = ? "+
		"ORDER BY 3, 5, 2 LIMIT ? OFFSET ?", lan, lan, page.Limit(), page.Offset)
}

// RegistryContactPrefix starts the ids of the contacts that come from the
// activity registry; they are changed there, not here.
const RegistryContactPrefix = "registry-"

// RegistryContactPurpose is what a registry participant contact is for.
const RegistryContactPurpose = "Kontakt för deltagare"

// RegistryContact is one participant contact of an organiser in one län, as
// the activity registry keeps it.
type RegistryContact struct {
	Lan              string `db:"lan"`
	Organiser        string `db:"organiser"` // organisation number
	Position         int    `db:"position"`
	ActorDisplayName string `db:"actor_display_name"`
	PersonName       string `db:"person_name"`
	Email            string `db:"email"`
	Phone            string `db:"phone"`
}

// ReplaceRegistryContacts replaces, within tx, what is held of an
// organiser's participant contacts with contacts, unless what is held is
// newer than updateTime (RFC 3339; events may arrive out of order). applied
// says whether it replaced.
func ReplaceRegistryContacts(ctx context.Context, tx Tx, org, updateTime string, contacts []RegistryContact) (applied bool, err error) {
	var held string
	err = sqlx.GetContext(ctx, tx, &held, tx.Rebind("SELECT update_time FROM registry_organisers WHERE organiser = ?"), org)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO registry_organisers (organiser, update_time) VALUES (?, ?)"), org, updateTime); err != nil {
			return false, fmt.Errorf("registry contacts: %w", err)
		}
	case err != nil:
		return false, fmt.Errorf("registry contacts: %w", err)
	case held > updateTime:
		return false, nil
	default:
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE registry_organisers SET update_time = ? WHERE organiser = ?"), updateTime, org); err != nil {
			return false, fmt.Errorf("registry contacts: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM registry_contacts WHERE organiser = ?"), org); err != nil {
		return false, fmt.Errorf("registry contacts: %w", err)
	}
	for _, c := range contacts {
		c.Organiser = org
		if _, err := sqlx.NamedExecContext(ctx, tx, "INSERT INTO registry_contacts (lan, organiser, position, actor_display_name, person_name, email, phone) "+
			"VALUES (:lan, :organiser, :position, :actor_display_name, :person_name, :email, :phone)", c); err != nil {
			return false, fmt.Errorf("registry contacts: %w", err)
		}
	}
	return true, nil
}

// GetContact returns one contact.
func (s *Store) GetContact(ctx context.Context, lan, id string) (Contact, error) {
	return records.One[Contact](ctx, s.db, "contact", "SELECT "+contactColumns+" FROM contacts WHERE lan = ? AND id = ?", lan, id)
}

// DeleteContact removes a contact within tx.
func DeleteContact(ctx context.Context, tx Tx, lan, id string) error {
	return records.ExecOne(ctx, tx, "delete contact", "DELETE FROM contacts WHERE lan = ? AND id = ?", lan, id)
}

// FeedActivity is an activity as the public feed shows it.
type FeedActivity struct {
	Name        string `db:"name"`
	KommunCode  string `db:"kommun_code"`
	LanCode     string `db:"lan_code"`
	Title       string `db:"title"`
	Focus       string `db:"focus"`
	Capacity    int32  `db:"capacity"`
	StartDate   string `db:"start_date"`
	EndDate     string `db:"end_date"`
	PublishTime string `db:"publish_time"`
	// Organiser is the organiser's recipient name, "" when the activity's
	// name names none (written, not read back).
	Organiser string `db:"organiser"`
}

// NoteActivities records, within tx, activities for the feed, each with
// its organiser (which makes the organiser one of the län's active ones),
// in one statement per 500. A redelivered event changes nothing.
func NoteActivities(ctx context.Context, tx Tx, as ...FeedActivity) error {
	for chunk := range slices.Chunk(as, noteRows) {
		if _, err := sqlx.NamedExecContext(ctx, tx, "INSERT INTO feed_activities (name, kommun_code, lan_code, title, focus, capacity, start_date, end_date, publish_time, organiser) "+
			"VALUES (:name, :kommun_code, :lan_code, :title, :focus, :capacity, :start_date, :end_date, :publish_time, :organiser) ON CONFLICT DO NOTHING", chunk); err != nil {
			return fmt.Errorf("note %d activities: %w", len(chunk), err)
		}
	}
	return nil
}

// noteRows bounds the activities one INSERT writes (10 parameters each).
const noteRows = 500

// NoteOrganiser records, within tx, that an organiser is active in a län.
func NoteOrganiser(ctx context.Context, tx Tx, lan, organiser string) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO active_organisers (lan, recipient) VALUES (?, ?) ON CONFLICT DO NOTHING"), lan, organiser); err != nil {
		return fmt.Errorf("note organiser: %w", err)
	}
	return nil
}

// FeedActivities lists the newest activities of a kommun that have not
// ended by today (YYYY-MM-DD).
func (s *Store) FeedActivities(ctx context.Context, kommun, today string, limit int) ([]FeedActivity, error) {
	return records.All[FeedActivity](ctx, s.db, "feed activities",
		"SELECT name, kommun_code, lan_code, title, focus, capacity, start_date, end_date, publish_time FROM feed_activities "+
			"WHERE kommun_code = ? AND end_date >= ? ORDER BY publish_time DESC, name LIMIT ?", kommun, today, limit)
}
