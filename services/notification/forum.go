package notification

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/domain"
	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/platform/resname"
	"github.com/tia-platform/tia/services/platform/uow"
)

// requireCountyBoard checks that the caller is the county board of lan.
func requireCountyBoard(ctx context.Context, lan string) error {
	p, err := auth.Require(ctx, auth.RoleCountyBoard)
	if err != nil {
		return err
	}
	if p.Lan != lan {
		return apierr.Denied("only the county board of län %s manages its forum", lan)
	}
	return nil
}

// boardParent parses a `lan/{lan}` parent and checks that the caller is
// that län's county board.
func boardParent(ctx context.Context, parent string) (string, error) {
	lan, err := lanOf("parent", parent)
	if err != nil {
		return "", err
	}
	return lan, requireCountyBoard(ctx, lan)
}

// signedInParent admits any signed-in caller, then reads the län of
// parent.
func signedInParent(ctx context.Context, parent string) (string, error) {
	if _, err := auth.Require(ctx); err != nil {
		return "", err
	}
	return lanOf("parent", parent)
}

// boardName parses the name in field with pattern, whose first segment is
// a län, and checks that the caller is that län's county board: the name's
// segments.
func boardName(ctx context.Context, pattern resname.Pattern, field, name string) ([]string, error) {
	v, err := pattern.Parse(field, name)
	if err != nil {
		return nil, err
	}
	return v, requireCountyBoard(ctx, v[0])
}

// forumReader decides whether the caller may read the meetings of lan's
// forum (with their minutes and feedback): its members, its county board,
// Migrationsverket.
func (s *Service) forumReader(ctx context.Context, lan string) error {
	p, err := auth.Require(ctx)
	if err != nil {
		return err
	}
	r := domain.Reader{Migrationsverket: p.Role == auth.RoleMigrationsverket}
	if p.Role == auth.RoleCountyBoard {
		r.CountyBoardOf = p.Lan
	}
	if !domain.MayReadForum(r, lan) {
		if recipient, ok := routing.RecipientOf(p, s.people); ok && p.Role != auth.RoleAsylumSeeker {
			if r.Member, err = s.store.IsMember(ctx, lan, recipient); err != nil {
				return err
			}
		}
	}
	if !domain.MayReadForum(r, lan) {
		return apierr.Denied("the meetings of the forum of län %s (minutes, feedback) are for its members, its county board and Migrationsverket; its calendar is public", lan)
	}
	return nil
}

// CreateForumMember adds a member to the forum of a län (its county board).
func (s *Service) CreateForumMember(ctx context.Context, req *notificationv1.CreateForumMemberRequest) (*notificationv1.ForumMember, error) {
	lan, err := boardParent(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	m := req.GetMember()
	if !routing.ValidActor(m.GetRecipient()) {
		return nil, badrequest.Field("member.recipient", "is not a recipient: use lansstyrelse-NN, migrationsverket-NN, folkbildningsradet or organiser-<organisation number>")
	}
	row := store.Member{Lan: lan, Recipient: m.GetRecipient(), DisplayName: m.GetDisplayName(), CreateTime: timeText(s.now())}
	err = s.units.Do(ctx, func(w *uow.Work) error { return store.CreateMember(ctx, w.Tx, row) })
	if errors.Is(err, store.ErrExists) {
		return nil, apierr.New(apierr.ErrAlreadyExists, "%s already exists", memberPattern.Format(lan, row.Recipient))
	}
	if err != nil {
		return nil, err
	}
	return memberToProto(row), nil
}

// ListForumMembers lists a forum's members to any signed-in actor: who
// sits in a forum is no secret among the parties.
func (s *Service) ListForumMembers(ctx context.Context, req *notificationv1.ListForumMembersRequest) (*notificationv1.ListForumMembersResponse, error) {
	lan, err := signedInParent(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	list, next, err := listPage(req, func(page listing.Page) ([]store.Member, error) { return s.store.ListMembers(ctx, lan, page) }, memberToProto)
	if err != nil {
		return nil, err
	}
	return &notificationv1.ListForumMembersResponse{Members: list, NextPageToken: next}, nil
}

// DeleteForumMember removes a member (the county board).
func (s *Service) DeleteForumMember(ctx context.Context, req *notificationv1.DeleteForumMemberRequest) (*emptypb.Empty, error) {
	v, err := boardName(ctx, memberPattern, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	err = s.units.Do(ctx, func(w *uow.Work) error { return store.DeleteMember(ctx, w.Tx, v[0], v[1]) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound(req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// CreateMeeting plans a meeting and, in the same transaction, invites every
// member of the län's forum.
func (s *Service) CreateMeeting(ctx context.Context, req *notificationv1.CreateMeetingRequest) (*notificationv1.Meeting, error) {
	lan, err := boardParent(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	in := req.GetMeeting()
	now := s.now()
	m := domain.ForumMeeting{
		Lan: lan, ID: uuid.Must(uuid.NewV7()).String(), Title: in.GetTitle(), Level: domain.Level(in.GetLevel()),
		Start: timeFromTimestamp(in.GetStartTime()), End: timeFromTimestamp(in.GetEndTime()),
		Location: in.GetLocation(), Minutes: in.GetMinutes(), Created: now, Updated: now,
	}
	if err := domain.CheckMeeting(domain.Meeting{Title: m.Title, Level: m.Level, Start: m.Start, End: m.End}, now); err != nil {
		return nil, badrequest.Prefix("meeting", err)
	}
	for _, a := range in.GetAgenda() {
		m.Agenda = append(m.Agenda, domain.AgendaItem{Title: a.GetTitle(), Description: a.GetDescription()})
	}
	queued := false
	err = s.units.Do(ctx, func(w *uow.Work) error {
		row, err := meetingRow(m)
		if err != nil {
			return err
		}
		if err := store.CreateMeeting(ctx, w.Tx, row); err != nil {
			return err
		}
		queued, err = s.tellForum(ctx, w.Tx, m, routing.TopicMeetingInvited, "invited")
		return err
	})
	return s.meetingTold(m, queued, err)
}

// meetingTold answers a change of meeting m (err: the change failed) that
// may have queued messages to the forum's members: once they are committed,
// the dispatcher is woken for them.
func (s *Service) meetingTold(m domain.ForumMeeting, queued bool, err error) (*notificationv1.Meeting, error) {
	if err != nil {
		return nil, err
	}
	if queued {
		s.dispatch.Wake()
	}
	return meetingToProto(m), nil
}

// tellForum writes a message on topic about a meeting to every forum member
// of its län, once per member per (meeting, what).
func (s *Service) tellForum(ctx context.Context, tx *sqlx.Tx, m domain.ForumMeeting, topic, what string) (bool, error) {
	members, err := store.Directory{Q: tx, People: s.people}.ForumMembers(ctx, m.Lan)
	if err != nil {
		return false, err
	}
	var agenda []string
	for _, a := range m.Agenda {
		agenda = append(agenda, a.Title)
	}
	data := map[string]any{
		"Title": m.Title, "Lan": lanName(m.Lan), "LevelSv": m.Level.Swedish(), "LevelEn": m.Level.English(),
		"Start": displayTime(m.Start), "End": displayTime(m.End), "Location": m.Location,
		"Agenda": agenda, "Minutes": m.Minutes,
	}
	name := meetingPattern.Format(m.Lan, m.ID)
	queued := false
	for _, r := range members {
		q, err := s.deliver(ctx, tx, topic, "meeting:"+name+":"+what, "tia.notification.v1.Meeting", routing.Message{Recipient: r, SubjectResource: name, Data: data})
		if err != nil {
			return false, err
		}
		queued = queued || q
	}
	return queued, nil
}

// displayTime shows a meeting time in Swedish local time.
func displayTime(t time.Time) string { return t.In(clock.Stockholm).Format("2006-01-02 15:04") }

func lanName(code string) string {
	if l, ok := refdata.LanByCode(code); ok {
		return l.Name
	}
	return code
}

// GetMeeting returns a meeting to its forum's members, the county board
// and Migrationsverket.
func (s *Service) GetMeeting(ctx context.Context, req *notificationv1.GetMeetingRequest) (*notificationv1.Meeting, error) {
	v, err := meetingPattern.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.forumReader(ctx, v[0]); err != nil {
		return nil, err
	}
	m, err := s.meeting(ctx, s.store.DB(), v[0], v[1])
	if err != nil {
		return nil, err
	}
	return meetingToProto(m), nil
}

func (s *Service) meeting(ctx context.Context, q store.Queryer, lan, id string) (domain.ForumMeeting, error) {
	row, err := store.GetMeeting(ctx, q, lan, id)
	if errors.Is(err, store.ErrNotFound) {
		return domain.ForumMeeting{}, apierr.NotFound(meetingPattern.Format(lan, id))
	}
	if err != nil {
		return domain.ForumMeeting{}, err
	}
	return meetingOf(row)
}

// ListMeetings lists a län's meetings by start time to its forum's
// members, the county board and Migrationsverket.
func (s *Service) ListMeetings(ctx context.Context, req *notificationv1.ListMeetingsRequest) (*notificationv1.ListMeetingsResponse, error) {
	lan, err := signedInParent(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	if err := s.forumReader(ctx, lan); err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListMeetings(ctx, lan, page.Limit(), page.Offset)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &notificationv1.ListMeetingsResponse{NextPageToken: next}
	for _, row := range list {
		m, err := meetingOf(row)
		if err != nil {
			return nil, err
		}
		resp.Meetings = append(resp.Meetings, meetingToProto(m))
	}
	return resp, nil
}

// meetingFields are the fields UpdateMeeting changes; `*` means all of them
// (AIP-134).
var meetingFields = []string{"title", "level", "start_time", "end_time", "location", "agenda", "minutes"}

// UpdateMeeting changes a meeting (the county board). Publishing minutes
// tells the forum's members.
func (s *Service) UpdateMeeting(ctx context.Context, req *notificationv1.UpdateMeetingRequest) (*notificationv1.Meeting, error) {
	in := req.GetMeeting()
	v, err := boardName(ctx, meetingPattern, "meeting.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if slices.Contains(paths, "*") {
		paths = meetingFields
	}
	queued := false
	out, err := s.changeMeeting(ctx, v[0], v[1], func(w *uow.Work, m *domain.ForumMeeting) error {
		oldMinutes, timeChanged := m.Minutes, false
		for _, p := range paths {
			switch p {
			case "title":
				m.Title = in.GetTitle()
			case "level":
				m.Level = domain.Level(in.GetLevel())
			case "start_time":
				m.Start, timeChanged = timeFromTimestamp(in.GetStartTime()), true
			case "end_time":
				m.End = timeFromTimestamp(in.GetEndTime())
			case "location":
				m.Location = in.GetLocation()
			case "agenda":
				m.Agenda = nil
				for _, a := range in.GetAgenda() {
					m.Agenda = append(m.Agenda, domain.AgendaItem{Title: a.GetTitle(), Description: a.GetDescription(), ProposedBy: a.GetProposedBy()})
				}
			case "minutes":
				m.Minutes = in.GetMinutes()
			default:
				return badrequest.Field("update_mask", "unknown or read-only field "+p+"; use "+strings.Join(meetingFields, ", ")+" or *")
			}
		}
		checkFrom := s.now()
		if !timeChanged {
			checkFrom = time.Time{} // minutes are written after the meeting
		}
		if err := domain.CheckMeeting(domain.Meeting{Title: m.Title, Level: m.Level, Start: m.Start, End: m.End}, checkFrom); err != nil {
			return badrequest.Prefix("meeting", err)
		}
		m.Updated = s.now()
		if m.Minutes != "" && m.Minutes != oldMinutes {
			var err error
			if queued, err = s.tellForum(ctx, w.Tx, *m, routing.TopicMinutesPublished, "minutes:"+timeText(m.Updated)); err != nil {
				return err
			}
		}
		return nil
	})
	return s.meetingTold(out, queued, err)
}

// ProposeAgendaItem adds a member's proposal to a dialog or partnerskap
// meeting's agenda.
func (s *Service) ProposeAgendaItem(ctx context.Context, req *notificationv1.ProposeAgendaItemRequest) (*notificationv1.Meeting, error) {
	v, err := meetingPattern.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	p, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	lan := v[0]
	recipient, ok := routing.RecipientOf(p, s.people)
	if p.Role == auth.RoleMigrationsverket {
		recipient = routing.MigrationsverketRegion(lan)
	}
	member := false
	if ok && p.Role != auth.RoleAsylumSeeker {
		if member, err = s.store.IsMember(ctx, lan, recipient); err != nil {
			return nil, err
		}
	}
	if !member && !(p.Role == auth.RoleCountyBoard && p.Lan == lan) {
		return nil, apierr.Denied("only members of the forum of län %s propose agenda items", lan)
	}
	m, err := s.changeMeeting(ctx, lan, v[1], func(_ *uow.Work, m *domain.ForumMeeting) error {
		item := domain.AgendaItem{Title: req.GetItem().GetTitle(), Description: req.GetItem().GetDescription(), ProposedBy: recipient}
		if err := m.Propose(item, s.now()); err != nil {
			return apierr.New(err, "%s is a %s meeting; members propose agenda items only for dialog and partnerskap meetings", req.GetName(), m.Level.Swedish())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return meetingToProto(m), nil
}

// RecordFeedback records a response and what the county board did with it.
func (s *Service) RecordFeedback(ctx context.Context, req *notificationv1.RecordFeedbackRequest) (*notificationv1.Meeting, error) {
	v, err := boardName(ctx, meetingPattern, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	m, err := s.changeMeeting(ctx, v[0], v[1], func(_ *uow.Work, m *domain.ForumMeeting) error {
		f := req.GetFeedback()
		m.RecordFeedback(domain.Feedback{Respondent: f.GetRespondent(), Response: f.GetResponse(), Outcome: f.GetOutcome()}, s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return meetingToProto(m), nil
}

// changeMeeting applies change to a stored meeting and saves it, in one
// unit of work.
func (s *Service) changeMeeting(ctx context.Context, lan, id string, change func(*uow.Work, *domain.ForumMeeting) error) (domain.ForumMeeting, error) {
	var out domain.ForumMeeting
	err := s.units.Do(ctx, func(w *uow.Work) error {
		m, err := s.meeting(ctx, w.Tx, lan, id)
		if err != nil {
			return err
		}
		if err := change(w, &m); err != nil {
			return err
		}
		row, err := meetingRow(m)
		if err != nil {
			return err
		}
		out = m
		return store.UpdateMeeting(ctx, w.Tx, row)
	})
	return out, err
}

// GetMeetingCalendar renders a län's meetings as iCalendar (RFC 5545):
// times, places, levels and agenda titles, public; never minutes or
// feedback.
func (s *Service) GetMeetingCalendar(ctx context.Context, req *notificationv1.GetMeetingCalendarRequest) (*notificationv1.Feed, error) {
	lan, err := lanOf("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListMeetings(ctx, lan, 1000, 0)
	if err != nil {
		return nil, err
	}
	cal := ics.NewCalendarFor("TIA")
	cal.SetProductId("-//TIA//Regional forum//SV")
	cal.SetMethod(ics.MethodPublish)
	cal.SetName("Regionalt samverkansforum TIA, " + lanName(lan))
	cal.SetXWRCalName("Regionalt samverkansforum TIA, " + lanName(lan))
	cal.SetRefreshInterval("PT1H")
	for _, row := range list {
		m, err := meetingOf(row)
		if err != nil {
			return nil, err
		}
		ev := cal.AddEvent(m.ID + "@tia." + lan)
		ev.SetDtStampTime(m.Updated)
		ev.SetLastModifiedAt(m.Updated)
		ev.SetStartAt(m.Start)
		ev.SetEndAt(m.End)
		ev.SetSummary(m.Title)
		desc := []string{"Nivå: " + m.Level.Swedish()}
		for i, a := range m.Agenda {
			desc = append(desc, fmt.Sprintf("%d. %s", i+1, a.Title))
		}
		ev.SetDescription(strings.Join(desc, "\n"))
		if m.Location != "" {
			ev.SetLocation(m.Location)
		}
	}
	return &notificationv1.Feed{ContentType: "text/calendar; charset=utf-8", Data: []byte(cal.Serialize(ics.WithNewLine("\r\n")))}, nil
}

func memberToProto(m store.Member) *notificationv1.ForumMember {
	return &notificationv1.ForumMember{Name: memberPattern.Format(m.Lan, m.Recipient), Recipient: m.Recipient, DisplayName: m.DisplayName}
}

func meetingToProto(m domain.ForumMeeting) *notificationv1.Meeting {
	p := &notificationv1.Meeting{
		Name: meetingPattern.Format(m.Lan, m.ID), Title: m.Title, Level: notificationv1.CooperationLevel(m.Level),
		Location: m.Location, Agenda: agendaToProto(m.Agenda), Minutes: m.Minutes, Feedback: feedbackToProto(m.Feedback),
		CreateTime: timestampFromTime(m.Created), UpdateTime: timestampFromTime(m.Updated),
		StartTime: timestampFromTime(m.Start), EndTime: timestampFromTime(m.End),
	}
	return p
}

func timestampFromTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func agendaToProto(items []domain.AgendaItem) []*notificationv1.AgendaItem {
	var out []*notificationv1.AgendaItem
	for _, a := range items {
		out = append(out, &notificationv1.AgendaItem{Title: a.Title, Description: a.Description, ProposedBy: a.ProposedBy})
	}
	return out
}

func feedbackToProto(list []domain.Feedback) []*notificationv1.Feedback {
	var out []*notificationv1.Feedback
	for _, f := range list {
		out = append(out, &notificationv1.Feedback{Respondent: f.Respondent, Response: f.Response, Outcome: f.Outcome, CreateTime: timestampFromTime(f.Created)})
	}
	return out
}
