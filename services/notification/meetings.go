package notification

import (
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/domain"
	"github.com/tia-platform/tia/services/notification/internal/store"
)

// meetingTime is how meeting times are stored: UTC, to the second, so the
// text sorts in time order.
const meetingTime = "2006-01-02T15:04:05Z"

// meetingRow is the stored form of a meeting. The agenda and the feedback
// are JSON arrays of the API's AgendaItem and Feedback messages, each
// written with protojson (so the columns read like the REST API and keep
// working as the messages grow fields).
func meetingRow(m domain.ForumMeeting) (store.Meeting, error) {
	agenda, err := encodeList(agendaToProto(m.Agenda))
	if err != nil {
		return store.Meeting{}, fmt.Errorf("meeting agenda: %w", err)
	}
	feedback, err := encodeList(feedbackToProto(m.Feedback))
	if err != nil {
		return store.Meeting{}, fmt.Errorf("meeting feedback: %w", err)
	}
	return store.Meeting{
		Lan: m.Lan, ID: m.ID, Title: m.Title, Level: int32(m.Level),
		StartTime: m.Start.UTC().Format(meetingTime), EndTime: m.End.UTC().Format(meetingTime),
		Location: m.Location, Agenda: agenda, Minutes: m.Minutes, Feedback: feedback,
		CreateTime: timeText(m.Created), UpdateTime: timeText(m.Updated),
	}, nil
}

// meetingOf reads a stored meeting.
func meetingOf(r store.Meeting) (domain.ForumMeeting, error) {
	m := domain.ForumMeeting{
		Lan: r.Lan, ID: r.ID, Title: r.Title, Level: domain.Level(r.Level), Location: r.Location, Minutes: r.Minutes,
		Created: timeFromText(r.CreateTime), Updated: timeFromText(r.UpdateTime),
	}
	var err error
	if m.Start, err = time.Parse(meetingTime, r.StartTime); err != nil {
		return m, fmt.Errorf("meeting %s start: %w", r.ID, err)
	}
	if m.End, err = time.Parse(meetingTime, r.EndTime); err != nil {
		return m, fmt.Errorf("meeting %s end: %w", r.ID, err)
	}
	agenda, err := decodeList(r.Agenda, func() *notificationv1.AgendaItem { return &notificationv1.AgendaItem{} })
	if err != nil {
		return m, fmt.Errorf("meeting %s agenda: %w", r.ID, err)
	}
	for _, a := range agenda {
		m.Agenda = append(m.Agenda, domain.AgendaItem{Title: a.GetTitle(), Description: a.GetDescription(), ProposedBy: a.GetProposedBy()})
	}
	feedback, err := decodeList(r.Feedback, func() *notificationv1.Feedback { return &notificationv1.Feedback{} })
	if err != nil {
		return m, fmt.Errorf("meeting %s feedback: %w", r.ID, err)
	}
	for _, f := range feedback {
		fb := domain.Feedback{Respondent: f.GetRespondent(), Response: f.GetResponse(), Outcome: f.GetOutcome()}
		if f.GetCreateTime() != nil {
			fb.Created = f.GetCreateTime().AsTime().UTC()
		}
		m.Feedback = append(m.Feedback, fb)
	}
	return m, nil
}

// encodeList writes messages as a JSON array of their protojson forms.
func encodeList[T proto.Message](items []T) (string, error) {
	raw := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		b, err := protojson.Marshal(it)
		if err != nil {
			return "", err
		}
		raw = append(raw, b)
	}
	b, err := json.Marshal(raw)
	return string(b), err
}

// decodeList reads what encodeList wrote. Rows written before it (by
// encoding/json on the generated structs) differ only in how a timestamp
// looks ({"seconds":…,"nanos":…}); those are read as they were written.
func decodeList[T proto.Message](s string, newItem func() T) ([]T, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(raw))
	for _, r := range raw {
		it := newItem()
		if err := protojson.Unmarshal(r, it); err != nil {
			if legacyErr := decodeLegacy(r, it); legacyErr != nil {
				return nil, fmt.Errorf("%w (nor in the earlier form: %v)", err, legacyErr)
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// decodeLegacy reads an item that encoding/json wrote from a generated
// struct.
func decodeLegacy(r json.RawMessage, into proto.Message) error {
	var v struct {
		Title, Description, Respondent, Response, Outcome string
		ProposedBy                                        string `json:"proposed_by"`
		CreateTime                                        *struct {
			Seconds int64 `json:"seconds"`
			Nanos   int32 `json:"nanos"`
		} `json:"create_time"`
	}
	if err := json.Unmarshal(r, &v); err != nil {
		return err
	}
	switch it := into.(type) {
	case *notificationv1.AgendaItem:
		it.Title, it.Description, it.ProposedBy = v.Title, v.Description, v.ProposedBy
	case *notificationv1.Feedback:
		it.Respondent, it.Response, it.Outcome = v.Respondent, v.Response, v.Outcome
		if v.CreateTime != nil {
			it.CreateTime = timestampFromTime(time.Unix(v.CreateTime.Seconds, int64(v.CreateTime.Nanos)).UTC())
		}
	default:
		return fmt.Errorf("no earlier form of %T", into)
	}
	return nil
}
