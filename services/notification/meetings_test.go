package notification

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/domain"
	"github.com/tia-platform/tia/services/notification/internal/store"
)

// TestMeetingRows: a meeting survives its stored form; agenda and feedback
// are stored as protojson (camelCase names, RFC 3339 times), and rows
// written before, by encoding/json on the generated structs, still read.
func TestMeetingRows(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m := domain.ForumMeeting{
		Lan: "01", ID: "m1", Title: "Forum", Level: domain.LevelDialog, Start: at, End: at.Add(time.Hour), Location: "Stockholm",
		Agenda:   []domain.AgendaItem{{Title: "Lägesbild"}, {Title: "Resvägar", Description: "Förslag", ProposedBy: "organiser-8020038884"}},
		Minutes:  "Protokoll",
		Feedback: []domain.Feedback{{Respondent: "organiser-8020038884", Response: "Fler platser", Outcome: "Utreds", Created: at}},
		Created:  at, Updated: at,
	}
	row, err := meetingRow(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(row.Agenda, `"proposedBy":"organiser-8020038884"`) || !strings.Contains(row.Feedback, `"createTime":"2026-03-02T09:00:00Z"`) {
		t.Fatalf("stored agenda %s, feedback %s", row.Agenda, row.Feedback)
	}
	back, err := meetingOf(row)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(m, back); d != "" {
		t.Fatalf("meeting after its row (-want +got):\n%s", d)
	}

	legacyAgenda, _ := json.Marshal([]*notificationv1.AgendaItem{{Title: "Lägesbild", ProposedBy: "organiser-8020038884"}})
	legacyFeedback, _ := json.Marshal([]*notificationv1.Feedback{{Respondent: "r", Response: "svar", Outcome: "o", CreateTime: timestamppb.New(at)}})
	old := row
	old.Agenda, old.Feedback = string(legacyAgenda), string(legacyFeedback)
	got, err := meetingOf(old)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Agenda) != 1 || got.Agenda[0].ProposedBy != "organiser-8020038884" || len(got.Feedback) != 1 || !got.Feedback[0].Created.Equal(at) {
		t.Fatalf("legacy row read as %+v", got)
	}
	if _, err := meetingOf(store.Meeting{StartTime: row.StartTime, EndTime: row.EndTime, Agenda: "not json", Feedback: "[]"}); err == nil {
		t.Fatal("a broken agenda reads without error")
	}
}
