package notification

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
)

// TestForumOnBothDatabases: members, a meeting with invitations, minutes,
// proposals only at dialog and partnerskap, feedback, and an iCalendar feed
// that a calendar library reads back.
func TestForumOnBothDatabases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		s := newTestService(t, dsn, Config{Delivery: dispatchFast})
		board := as(countyBoard01)
		for _, r := range []string{"organiser-8020038884", "migrationsverket-01"} {
			if _, err := s.CreateForumMember(board, &notificationv1.CreateForumMemberRequest{Parent: "lan/01",
				Member: &notificationv1.ForumMember{Recipient: r, DisplayName: r}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateForumMember(board, &notificationv1.CreateForumMemberRequest{Parent: "lan/01",
			Member: &notificationv1.ForumMember{Recipient: "organiser-8020038884", DisplayName: "again"}}); code(err) != codes.AlreadyExists {
			t.Fatalf("second add: %v", err)
		}
		start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
		plan := func(level notificationv1.CooperationLevel) *notificationv1.Meeting {
			m, err := s.CreateMeeting(board, &notificationv1.CreateMeetingRequest{Parent: "lan/01", Meeting: &notificationv1.Meeting{
				Title: "Forum " + level.String(), Level: level, StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour)),
				Location: "Stockholm", Agenda: []*notificationv1.AgendaItem{{Title: "Lägesbild"}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		info := plan(notificationv1.CooperationLevel_COOPERATION_LEVEL_INFORMATION)
		partner := plan(notificationv1.CooperationLevel_COOPERATION_LEVEL_PARTNERSKAP)

		member := as(organiser)
		inbox, err := s.ListMessages(member, &notificationv1.ListMessagesRequest{Parent: "recipients/organiser-8020038884"})
		if err != nil || len(inbox.GetMessages()) != 2 || inbox.GetMessages()[0].GetTopic() != "forum.meeting_invited" {
			t.Fatalf("member's invitations = %v, %v", inbox, err)
		}
		if _, err := s.ProposeAgendaItem(member, &notificationv1.ProposeAgendaItemRequest{Name: info.GetName(), Item: &notificationv1.AgendaItem{Title: "x"}}); code(err) != codes.FailedPrecondition {
			t.Fatalf("proposal to an information meeting: %v", err)
		}
		got, err := s.ProposeAgendaItem(member, &notificationv1.ProposeAgendaItemRequest{Name: partner.GetName(), Item: &notificationv1.AgendaItem{Title: "Resvägar"}})
		if err != nil || len(got.GetAgenda()) != 2 || got.GetAgenda()[1].GetProposedBy() != "organiser-8020038884" {
			t.Fatalf("proposal = %v, %v", got, err)
		}
		outsider := as(auth.Principal{Subject: "o", Role: auth.RoleOrganiser, Org: "8176055559"})
		if _, err := s.ProposeAgendaItem(outsider, &notificationv1.ProposeAgendaItemRequest{Name: partner.GetName(), Item: &notificationv1.AgendaItem{Title: "x"}}); code(err) != codes.PermissionDenied {
			t.Fatalf("non-member proposal: %v", err)
		}
		if _, err := s.RecordFeedback(board, &notificationv1.RecordFeedbackRequest{Name: partner.GetName(),
			Feedback: &notificationv1.Feedback{Respondent: "organiser-8020038884", Response: "Fler platser.", Outcome: "Utreds."}}); err != nil {
			t.Fatal(err)
		}
		upd, err := s.UpdateMeeting(board, &notificationv1.UpdateMeetingRequest{
			Meeting:    &notificationv1.Meeting{Name: partner.GetName(), Minutes: "Protokoll."},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"minutes"}},
		})
		if err != nil || upd.GetMinutes() != "Protokoll." || len(upd.GetFeedback()) != 1 || len(upd.GetAgenda()) != 2 {
			t.Fatalf("update = %v, %v", upd, err)
		}
		_, err = s.UpdateMeeting(board, &notificationv1.UpdateMeetingRequest{
			Meeting:    &notificationv1.Meeting{Name: partner.GetName(), StartTime: timestamppb.New(time.Now().Add(-time.Hour))},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"start_time"}},
		})
		if fields := badrequest.Fields(err); len(fields) == 0 || fields[0] != "meeting.start_time" {
			t.Fatalf("moving into the past: %v", err)
		}
		inbox, _ = s.ListMessages(member, &notificationv1.ListMessagesRequest{Parent: "recipients/organiser-8020038884"})
		if len(inbox.GetMessages()) != 3 || inbox.GetMessages()[0].GetTopic() != "forum.minutes_published" {
			t.Fatalf("after minutes: %v", inbox)
		}

		feed, err := s.GetMeetingCalendar(t.Context(), &notificationv1.GetMeetingCalendarRequest{Parent: "lan/01"})
		if err != nil || !strings.HasPrefix(feed.GetContentType(), "text/calendar") {
			t.Fatalf("calendar = %v, %v", feed, err)
		}
		cal, err := ics.ParseCalendar(strings.NewReader(string(feed.GetData())))
		if err != nil {
			t.Fatal(err)
		}
		evs := cal.Events()
		if len(evs) != 2 {
			t.Fatalf("%d events in the calendar", len(evs))
		}
		at, err := evs[0].GetStartAt()
		if err != nil || !at.Equal(start) || evs[0].GetProperty(ics.ComponentPropertySummary) == nil {
			t.Fatalf("first event starts %v (%v), want %v", at, err, start)
		}
	})
}

// TestContactsAndActivityFeed: the directory shows anonymous callers only
// the public contacts; the Atom feed lists a kommun's open activities.
func TestContactsAndActivityFeed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		s := newTestService(t, dsn, Config{})
		for _, c := range []*notificationv1.Contact{
			{Actor: "organiser-8020038884", ActorDisplayName: "Studieförbundet", Function: "Kursanmälan", Phone: "08-1", Public: true},
			{Actor: "organiser-8020038884", ActorDisplayName: "Studieförbundet", Function: "Regional kontakt", Email: "r@example.org"},
		} {
			if _, err := s.CreateContact(as(organiser), &notificationv1.CreateContactRequest{Parent: "lan/01", Contact: c}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateContact(as(organiser), &notificationv1.CreateContactRequest{Parent: "lan/01",
			Contact: &notificationv1.Contact{Actor: "lansstyrelse-01", ActorDisplayName: "x", Function: "y", Phone: "1"}}); code(err) != codes.PermissionDenied {
			t.Fatalf("organiser adds the county board's contact: %v", err)
		}
		pub, err := s.ListContacts(t.Context(), &notificationv1.ListContactsRequest{Parent: "lan/01"})
		if err != nil || len(pub.GetContacts()) != 1 || !pub.GetContacts()[0].GetPublic() {
			t.Fatalf("public contacts = %v, %v", pub, err)
		}
		all, _ := s.ListContacts(as(countyBoard01), &notificationv1.ListContactsRequest{Parent: "lan/01"})
		if len(all.GetContacts()) != 2 {
			t.Fatalf("contacts for actors = %v", all)
		}
		if _, err := s.DeleteContact(as(countyBoard01), &notificationv1.DeleteContactRequest{Name: all.GetContacts()[0].GetName()}); err != nil {
			t.Fatal(err)
		}

		next := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
		for i, a := range []*activityv1.Activity{
			{Name: "organisers/8020038884/activities/open", Title: "Svenska i Solna", KommunCode: "0184", LanCode: "01", Capacity: 15, StartDate: next, EndDate: next,
				Focus: []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH}},
			{Name: "organisers/8020038884/activities/over", Title: "Avslutad", KommunCode: "0184", LanCode: "01", Capacity: 15, StartDate: "2020-01-01", EndDate: "2020-02-01"},
		} {
			apply(t, s, "ev-"+string(rune('a'+i)), &activityv1.ActivityRegistered{Activity: a})
		}
		feed, err := s.GetActivityFeed(t.Context(), &notificationv1.GetActivityFeedRequest{Kommun: "kommuner/0184", BaseUrl: "https://tia.example"})
		if err != nil {
			t.Fatal(err)
		}
		atom := string(feed.GetData())
		if !strings.Contains(atom, "Svenska i Solna") || strings.Contains(atom, "Avslutad") || !strings.Contains(atom, "svenska språket") ||
			!strings.Contains(atom, `href="https://tia.example/v1/organisers/8020038884/activities/open"`) {
			t.Fatalf("feed:\n%s", atom)
		}
		if _, err := s.GetActivityFeed(t.Context(), &notificationv1.GetActivityFeedRequest{Kommun: "kommuner/9999"}); code(err) != codes.NotFound {
			t.Fatalf("unknown kommun: %v", err)
		}
	})
}
