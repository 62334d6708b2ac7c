package domain

import (
	"errors"
	"time"
)

// Refusals the service's error table maps to FAILED_PRECONDITION.
var (
	// ErrNoProposals: members propose agenda items only at the dialog and
	// partnerskap levels.
	ErrNoProposals = errors.New("the meeting's level takes no proposals")
	// ErrFromRegistry: a contact that comes from the activity registry is
	// changed there.
	ErrFromRegistry = errors.New("the contact is kept in the activity registry")
	// ErrNotDeadLettered: only a dead-lettered delivery can be replayed.
	ErrNotDeadLettered = errors.New("the delivery is not dead-lettered")
)

// ForumMeeting is a meeting of a län's regional forum as the service keeps
// it.
type ForumMeeting struct {
	Lan, ID    string
	Title      string
	Level      Level
	Start, End time.Time
	Location   string
	Agenda     []AgendaItem
	Minutes    string
	Feedback   []Feedback
	Created    time.Time
	Updated    time.Time
}

// AgendaItem is one point of a meeting's agenda.
type AgendaItem struct {
	Title, Description string
	// ProposedBy is the member who proposed it ("" for the county board's
	// own items).
	ProposedBy string
}

// Feedback is one response in a consultation and what the county board did
// with it (återkoppling).
type Feedback struct {
	Respondent, Response, Outcome string
	Created                       time.Time
}

// Propose adds a member's item to the agenda: only at the dialog and
// partnerskap levels, where members shape the agenda.
func (m *ForumMeeting) Propose(item AgendaItem, now time.Time) error {
	if !m.Level.TakesProposals() {
		return ErrNoProposals
	}
	m.Agenda = append(m.Agenda, item)
	m.Updated = now
	return nil
}

// RecordFeedback adds a response and its outcome.
func (m *ForumMeeting) RecordFeedback(f Feedback, now time.Time) {
	f.Created = now
	m.Feedback = append(m.Feedback, f)
	m.Updated = now
}

// Reader is who asks to read a forum's meetings.
type Reader struct {
	// CountyBoardOf is the län whose county board the reader is ("" if
	// none).
	CountyBoardOf string
	// Migrationsverket is set for Migrationsverket's staff.
	Migrationsverket bool
	// Member is set when the reader sits in the forum of the meeting's län.
	Member bool
}

// MayReadForum reports whether r may read a län's meetings with their
// minutes and feedback: that forum's members, its county board and
// Migrationsverket. What was said in a forum stays in the forum; its
// calendar (times, places, agenda titles) is public.
func MayReadForum(r Reader, lan string) bool {
	return r.Member || r.Migrationsverket || (r.CountyBoardOf != "" && r.CountyBoardOf == lan)
}
