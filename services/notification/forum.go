package notification

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/domain"
	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// meetingTime is how meeting times are stored: UTC, to the second, so the
// text sorts in time order.
const meetingTime = "2006-01-02T15:04:05Z"

// requireCountyBoard checks that the caller is the county board of lan.
func requireCountyBoard(ctx context.Context, lan string) (auth.Principal, error) {
	p, err := auth.Require(ctx, auth.RoleCountyBoard)
	if err != nil {
		return p, err
	}
	if p.Lan != lan {
		return p, status.Errorf(codes.PermissionDenied, "only the county board of län %s manages its forum", lan)
	}
	return p, nil
}

// knownLan answers NotFound for a län code that does not exist.
func knownLan(lan string) error {
	if _, ok := refdata.LanByCode(lan); !ok {
		return status.Errorf(codes.NotFound, "lan/%s not found", lan)
	}
	return nil
}

// CreateForumMember adds a member to the forum of a län (its county board).
func (s *Service) CreateForumMember(ctx context.Context, req *notificationv1.CreateForumMemberRequest) (*notificationv1.ForumMember, error) {
	lan := segment(req.GetParent(), 1)
	if err := knownLan(lan); err != nil {
		return nil, err
	}
	if _, err := requireCountyBoard(ctx, lan); err != nil {
		return nil, err
	}
	m := req.GetMember()
	if !routing.ValidActor(m.GetRecipient()) {
		return nil, badrequest.Field("member.recipient", "is not a recipient: use lansstyrelse-NN, migrationsverket-NN, folkbildningsradet or organiser-<organisation number>")
	}
	row := store.Member{Lan: lan, Recipient: m.GetRecipient(), DisplayName: m.GetDisplayName(), CreateTime: s.now().UTC().Format(time.RFC3339Nano)}
	if err := s.store.CreateMember(ctx, row); errors.Is(err, store.ErrExists) {
		return nil, status.Errorf(codes.AlreadyExists, "lan/%s/members/%s already exists", lan, row.Recipient)
	} else if err != nil {
		return nil, err
	}
	return memberToProto(row), nil
}

// ListForumMembers lists a forum's members to any signed-in actor.
func (s *Service) ListForumMembers(ctx context.Context, req *notificationv1.ListForumMembersRequest) (*notificationv1.ListForumMembersResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	lan := segment(req.GetParent(), 1)
	if err := knownLan(lan); err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListMembers(ctx, lan, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &notificationv1.ListForumMembersResponse{NextPageToken: next}
	for _, m := range list {
		resp.Members = append(resp.Members, memberToProto(m))
	}
	return resp, nil
}

// DeleteForumMember removes a member (the county board).
func (s *Service) DeleteForumMember(ctx context.Context, req *notificationv1.DeleteForumMemberRequest) (*emptypb.Empty, error) {
	lan, recipient := segment(req.GetName(), 1), segment(req.GetName(), 3)
	if _, err := requireCountyBoard(ctx, lan); err != nil {
		return nil, err
	}
	if err := s.store.DeleteMember(ctx, lan, recipient); errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	} else if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// meetingModel is a meeting as the service works with it.
type meetingModel struct {
	store.Meeting
	agenda   []*notificationv1.AgendaItem
	feedback []*notificationv1.Feedback
}

func loadMeeting(m store.Meeting) (meetingModel, error) {
	mm := meetingModel{Meeting: m}
	if err := json.Unmarshal([]byte(m.Agenda), &mm.agenda); err != nil {
		return mm, fmt.Errorf("meeting agenda: %w", err)
	}
	if err := json.Unmarshal([]byte(m.Feedback), &mm.feedback); err != nil {
		return mm, fmt.Errorf("meeting feedback: %w", err)
	}
	return mm, nil
}

func (mm *meetingModel) row() store.Meeting {
	a, _ := json.Marshal(orEmpty(mm.agenda))
	f, _ := json.Marshal(orEmpty(mm.feedback))
	r := mm.Meeting
	r.Agenda, r.Feedback = string(a), string(f)
	return r
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (mm *meetingModel) name() string { return "lan/" + mm.Lan + "/meetings/" + mm.ID }

func (mm *meetingModel) proto() *notificationv1.Meeting {
	p := &notificationv1.Meeting{
		Name: mm.name(), Title: mm.Title, Level: notificationv1.CooperationLevel(mm.Level),
		Location: mm.Location, Agenda: mm.agenda, Minutes: mm.Minutes, Feedback: mm.feedback,
		CreateTime: parseTime(mm.CreateTime), UpdateTime: parseTime(mm.UpdateTime),
	}
	if t, err := time.Parse(meetingTime, mm.StartTime); err == nil {
		p.StartTime = timestamppb.New(t)
	}
	if t, err := time.Parse(meetingTime, mm.EndTime); err == nil {
		p.EndTime = timestamppb.New(t)
	}
	return p
}

func ts(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime().UTC()
}

// CreateMeeting plans a meeting and, in the same transaction, invites every
// member of the län's forum.
func (s *Service) CreateMeeting(ctx context.Context, req *notificationv1.CreateMeetingRequest) (*notificationv1.Meeting, error) {
	lan := segment(req.GetParent(), 1)
	if err := knownLan(lan); err != nil {
		return nil, err
	}
	if _, err := requireCountyBoard(ctx, lan); err != nil {
		return nil, err
	}
	in := req.GetMeeting()
	now := s.now().UTC()
	err := domain.CheckMeeting(domain.Meeting{Title: in.GetTitle(), Level: domain.Level(in.GetLevel()), Start: ts(in.GetStartTime()), End: ts(in.GetEndTime())}, now)
	if err != nil {
		return nil, badrequest.Prefix("meeting", err)
	}
	mm := meetingModel{Meeting: store.Meeting{
		Lan: lan, ID: uuid.Must(uuid.NewV7()).String(), Title: in.GetTitle(), Level: int32(in.GetLevel()),
		StartTime: ts(in.GetStartTime()).Format(meetingTime), EndTime: ts(in.GetEndTime()).Format(meetingTime),
		Location: in.GetLocation(), Minutes: in.GetMinutes(),
		CreateTime: now.Format(time.RFC3339Nano), UpdateTime: now.Format(time.RFC3339Nano),
	}}
	for _, a := range in.GetAgenda() {
		mm.agenda = append(mm.agenda, &notificationv1.AgendaItem{Title: a.GetTitle(), Description: a.GetDescription()})
	}
	queued := false
	err = db.InTx(ctx, s.store.DB(), func(tx *sqlx.Tx) error {
		if err := store.CreateMeeting(ctx, tx, mm.row()); err != nil {
			return err
		}
		var err error
		queued, err = s.tellForum(ctx, tx, mm, routing.TopicMeetingInvited, "invited")
		return err
	})
	if err != nil {
		return nil, err
	}
	if queued {
		s.dispatch.Wake()
	}
	return mm.proto(), nil
}

// tellForum writes a message on topic about a meeting to every forum member
// of its län, once per member per (meeting, what).
func (s *Service) tellForum(ctx context.Context, tx *sqlx.Tx, mm meetingModel, topic, what string) (bool, error) {
	members, err := store.Directory{Q: tx}.ForumMembers(ctx, mm.Lan)
	if err != nil {
		return false, err
	}
	level := domain.Level(mm.Level)
	var agenda []string
	for _, a := range mm.agenda {
		agenda = append(agenda, a.GetTitle())
	}
	data := map[string]any{
		"Title": mm.Title, "Lan": lanName(mm.Lan), "LevelSv": level.Swedish(), "LevelEn": level.English(),
		"Start": displayTime(mm.StartTime), "End": displayTime(mm.EndTime), "Location": mm.Location,
		"Agenda": agenda, "Minutes": mm.Minutes,
	}
	queued := false
	for _, r := range members {
		q, err := s.deliver(ctx, tx, topic, "meeting:"+mm.name()+":"+what, "tia.notification.v1.Meeting", routing.Message{Recipient: r, SubjectResource: mm.name(), Data: data})
		if err != nil {
			return false, err
		}
		queued = queued || q
	}
	return queued, nil
}

// displayTime shows a stored meeting time in Swedish local time.
func displayTime(stored string) string {
	t, err := time.Parse(meetingTime, stored)
	if err != nil {
		return stored
	}
	return t.In(stockholm).Format("2006-01-02 15:04")
}

var stockholm = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Stockholm"); err == nil {
		return l
	}
	return time.UTC
}()

func lanName(code string) string {
	if l, ok := refdata.LanByCode(code); ok {
		return l.Name
	}
	return code
}

// GetMeeting returns a meeting to any signed-in actor.
func (s *Service) GetMeeting(ctx context.Context, req *notificationv1.GetMeetingRequest) (*notificationv1.Meeting, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	mm, err := s.meeting(ctx, s.store.DB(), req.GetName())
	if err != nil {
		return nil, err
	}
	return mm.proto(), nil
}

func (s *Service) meeting(ctx context.Context, q store.Queryer, name string) (meetingModel, error) {
	m, err := store.GetMeeting(ctx, q, segment(name, 1), segment(name, 3))
	if errors.Is(err, store.ErrNotFound) {
		return meetingModel{}, status.Errorf(codes.NotFound, "%s not found", name)
	}
	if err != nil {
		return meetingModel{}, err
	}
	return loadMeeting(m)
}

// ListMeetings lists a län's meetings by start time to any signed-in actor.
func (s *Service) ListMeetings(ctx context.Context, req *notificationv1.ListMeetingsRequest) (*notificationv1.ListMeetingsResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	lan := segment(req.GetParent(), 1)
	if err := knownLan(lan); err != nil {
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
	for _, m := range list {
		mm, err := loadMeeting(m)
		if err != nil {
			return nil, err
		}
		resp.Meetings = append(resp.Meetings, mm.proto())
	}
	return resp, nil
}

// UpdateMeeting changes a meeting (the county board). Publishing minutes
// tells the forum's members.
func (s *Service) UpdateMeeting(ctx context.Context, req *notificationv1.UpdateMeetingRequest) (*notificationv1.Meeting, error) {
	in := req.GetMeeting()
	lan := segment(in.GetName(), 1)
	if in.GetName() == "" {
		return nil, badrequest.Field("meeting.name", "is required")
	}
	if _, err := requireCountyBoard(ctx, lan); err != nil {
		return nil, err
	}
	var out meetingModel
	queued := false
	err := db.InTx(ctx, s.store.DB(), func(tx *sqlx.Tx) error {
		mm, err := s.meeting(ctx, tx, in.GetName())
		if err != nil {
			return err
		}
		oldMinutes, timeChanged := mm.Minutes, false
		for _, p := range req.GetUpdateMask().GetPaths() {
			switch p {
			case "title":
				mm.Title = in.GetTitle()
			case "level":
				mm.Level = int32(in.GetLevel())
			case "start_time":
				mm.StartTime, timeChanged = ts(in.GetStartTime()).Format(meetingTime), true
			case "end_time":
				mm.EndTime = ts(in.GetEndTime()).Format(meetingTime)
			case "location":
				mm.Location = in.GetLocation()
			case "agenda":
				mm.agenda = nil
				for _, a := range in.GetAgenda() {
					mm.agenda = append(mm.agenda, &notificationv1.AgendaItem{Title: a.GetTitle(), Description: a.GetDescription(), ProposedBy: a.GetProposedBy()})
				}
			case "minutes":
				mm.Minutes = in.GetMinutes()
			default:
				return badrequest.Field("update_mask", "unknown or read-only field "+p+"; use title, level, start_time, end_time, location, agenda, minutes")
			}
		}
		start, _ := time.Parse(meetingTime, mm.StartTime)
		end, _ := time.Parse(meetingTime, mm.EndTime)
		checkFrom := s.now().UTC()
		if !timeChanged {
			checkFrom = time.Time{} // minutes are written after the meeting
		}
		if err := domain.CheckMeeting(domain.Meeting{Title: mm.Title, Level: domain.Level(mm.Level), Start: start, End: end}, checkFrom); err != nil {
			return badrequest.Prefix("meeting", err)
		}
		mm.UpdateTime = s.now().UTC().Format(time.RFC3339Nano)
		if err := store.UpdateMeeting(ctx, tx, mm.row()); err != nil {
			return err
		}
		if mm.Minutes != "" && mm.Minutes != oldMinutes {
			queued, err = s.tellForum(ctx, tx, mm, routing.TopicMinutesPublished, "minutes:"+mm.UpdateTime)
			if err != nil {
				return err
			}
		}
		out = mm
		return nil
	})
	if err != nil {
		return nil, err
	}
	if queued {
		s.dispatch.Wake()
	}
	return out.proto(), nil
}

// ProposeAgendaItem adds a member's proposal to a dialog or partnerskap
// meeting's agenda.
func (s *Service) ProposeAgendaItem(ctx context.Context, req *notificationv1.ProposeAgendaItemRequest) (*notificationv1.Meeting, error) {
	p, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	lan := segment(req.GetName(), 1)
	recipient, ok := routing.RecipientOf(p)
	if p.Role == auth.RoleMigrationsverket {
		recipient = routing.MigrationsverketRegion(lan)
	}
	member := false
	if ok {
		if member, err = s.store.IsMember(ctx, lan, recipient); err != nil {
			return nil, err
		}
	}
	if !member && !(p.Role == auth.RoleCountyBoard && p.Lan == lan) {
		return nil, status.Errorf(codes.PermissionDenied, "only members of the forum of län %s propose agenda items", lan)
	}
	var out meetingModel
	err = db.InTx(ctx, s.store.DB(), func(tx *sqlx.Tx) error {
		mm, err := s.meeting(ctx, tx, req.GetName())
		if err != nil {
			return err
		}
		if !domain.Level(mm.Level).TakesProposals() {
			return status.Errorf(codes.FailedPrecondition, "%s is a %s meeting; members propose agenda items only for dialog and partnerskap meetings",
				req.GetName(), domain.Level(mm.Level).Swedish())
		}
		mm.agenda = append(mm.agenda, &notificationv1.AgendaItem{Title: req.GetItem().GetTitle(), Description: req.GetItem().GetDescription(), ProposedBy: recipient})
		mm.UpdateTime = s.now().UTC().Format(time.RFC3339Nano)
		if err := store.UpdateMeeting(ctx, tx, mm.row()); err != nil {
			return err
		}
		out = mm
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.proto(), nil
}

// RecordFeedback records a response and what the county board did with it.
func (s *Service) RecordFeedback(ctx context.Context, req *notificationv1.RecordFeedbackRequest) (*notificationv1.Meeting, error) {
	lan := segment(req.GetName(), 1)
	if _, err := requireCountyBoard(ctx, lan); err != nil {
		return nil, err
	}
	var out meetingModel
	err := db.InTx(ctx, s.store.DB(), func(tx *sqlx.Tx) error {
		mm, err := s.meeting(ctx, tx, req.GetName())
		if err != nil {
			return err
		}
		f := req.GetFeedback()
		mm.feedback = append(mm.feedback, &notificationv1.Feedback{
			Respondent: f.GetRespondent(), Response: f.GetResponse(), Outcome: f.GetOutcome(), CreateTime: timestamppb.New(s.now()),
		})
		mm.UpdateTime = s.now().UTC().Format(time.RFC3339Nano)
		if err := store.UpdateMeeting(ctx, tx, mm.row()); err != nil {
			return err
		}
		out = mm
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.proto(), nil
}

// GetMeetingCalendar renders a län's meetings as iCalendar (RFC 5545).
func (s *Service) GetMeetingCalendar(ctx context.Context, req *notificationv1.GetMeetingCalendarRequest) (*notificationv1.Feed, error) {
	lan := segment(req.GetParent(), 1)
	if err := knownLan(lan); err != nil {
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
	for _, m := range list {
		mm, err := loadMeeting(m)
		if err != nil {
			return nil, err
		}
		ev := cal.AddEvent(mm.ID + "@tia." + lan)
		start, _ := time.Parse(meetingTime, mm.StartTime)
		end, _ := time.Parse(meetingTime, mm.EndTime)
		updated, _ := time.Parse(time.RFC3339Nano, mm.UpdateTime)
		ev.SetDtStampTime(updated)
		ev.SetLastModifiedAt(updated)
		ev.SetStartAt(start)
		ev.SetEndAt(end)
		ev.SetSummary(mm.Title)
		level := domain.Level(mm.Level)
		desc := []string{"Nivå: " + level.Swedish()}
		for i, a := range mm.agenda {
			desc = append(desc, fmt.Sprintf("%d. %s", i+1, a.GetTitle()))
		}
		ev.SetDescription(strings.Join(desc, "\n"))
		if mm.Location != "" {
			ev.SetLocation(mm.Location)
		}
	}
	return &notificationv1.Feed{ContentType: "text/calendar; charset=utf-8", Data: []byte(cal.Serialize(ics.WithNewLine("\r\n")))}, nil
}

func memberToProto(m store.Member) *notificationv1.ForumMember {
	return &notificationv1.ForumMember{Name: "lan/" + m.Lan + "/members/" + m.Recipient, Recipient: m.Recipient, DisplayName: m.DisplayName}
}
