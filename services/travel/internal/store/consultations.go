package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
	"github.com/tia-platform/tia/services/travel/internal/domain"
)

// TimeLayout stores timestamps as fixed-width UTC text, which sorts.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(TimeLayout, s)
	return t
}

type proposal struct {
	From, To, ValidFrom, ValidTo, Reason string
	DistanceKm                           float64
}

type consultationRow struct {
	ID          string `db:"id"`
	State       string `db:"state"`
	Deadline    string `db:"deadline"`
	Description string `db:"description"`
	Proposals   string `db:"proposals"`
	LanCodes    string `db:"lan_codes"`
	Decision    string `db:"decision"`
	CreateTime  string `db:"create_time"`
	Invited     string `db:"invited"` // organiser names, comma-separated
}

type responseRow struct {
	ID             string `db:"id"`
	ConsultationID string `db:"consultation_id"`
	Stance         int32  `db:"stance"`
	Comment        string `db:"comment"`
	Respondent     string `db:"respondent"`
	LanCode        string `db:"lan_code"`
	OrgNumber      string `db:"org_number"`
	CreateTime     string `db:"create_time"`
}

// ConsultationFilterFields are the fields a consultation filter may name.
var ConsultationFilterFields = map[string]listing.Field{
	"state": {SQL: "state"},
}

func toConsultationRow(c domain.Consultation) (consultationRow, error) {
	ps := make([]proposal, len(c.Proposals))
	for i, p := range c.Proposals {
		ps[i] = proposal{p.FromKommunCode, p.ToKommunCode, p.ValidFrom, p.ValidTo, p.Reason, p.DistanceKm}
	}
	pj, err := json.Marshal(ps)
	if err != nil {
		return consultationRow{}, err
	}
	dec := ""
	if c.Decision != nil {
		dj, err := json.Marshal(c.Decision)
		if err != nil {
			return consultationRow{}, err
		}
		dec = string(dj)
	}
	return consultationRow{
		ID: c.ID, State: c.State, Deadline: c.Deadline, Description: c.Description, Proposals: string(pj),
		LanCodes: "," + strings.Join(c.LanCodes, ",") + ",", Decision: dec, CreateTime: fmtTime(c.CreateTime),
		Invited: strings.Join(c.Invited, ","),
	}, nil
}

func (r consultationRow) consultation() domain.Consultation {
	c := domain.Consultation{
		ID: r.ID, State: r.State, Deadline: r.Deadline, Description: r.Description,
		CreateTime: parseTime(r.CreateTime),
	}
	var ps []proposal
	_ = json.Unmarshal([]byte(r.Proposals), &ps)
	for _, p := range ps {
		c.Proposals = append(c.Proposals, domain.Route{
			FromKommunCode: p.From, ToKommunCode: p.To, ValidFrom: p.ValidFrom, ValidTo: p.ValidTo,
			Reason: p.Reason, DistanceKm: p.DistanceKm,
		})
	}
	for l := range strings.SplitSeq(strings.Trim(r.LanCodes, ","), ",") {
		if l != "" {
			c.LanCodes = append(c.LanCodes, l)
		}
	}
	if r.Invited != "" {
		c.Invited = strings.Split(r.Invited, ",")
	}
	if r.Decision != "" {
		c.Decision = &domain.Decision{}
		_ = json.Unmarshal([]byte(r.Decision), c.Decision)
	}
	return c
}

func (r responseRow) response() domain.Response {
	return domain.Response{
		ID: r.ID, ConsultationID: r.ConsultationID, Stance: r.Stance, Comment: r.Comment,
		Respondent: r.Respondent, LanCode: r.LanCode, OrgNumber: r.OrgNumber, CreateTime: parseTime(r.CreateTime),
	}
}

const consultationColumns = "id, state, deadline, description, proposals, lan_codes, decision, create_time, invited"

// CreateConsultation inserts c within tx.
func CreateConsultation(ctx context.Context, tx *sqlx.Tx, c domain.Consultation) error {
	row, err := toConsultationRow(c)
	if err != nil {
		return err
	}
	if _, err := tx.NamedExecContext(ctx, "INSERT INTO consultations ("+consultationColumns+
		") VALUES (:id, :state, :deadline, :description, :proposals, :lan_codes, :decision, :create_time, :invited)", row); err != nil {
		return fmt.Errorf("insert consultation: %w", err)
	}
	return nil
}

// GetConsultation returns a consultation with its responses.
func (s *Store) GetConsultation(ctx context.Context, id string) (domain.Consultation, error) {
	return getConsultation(ctx, s.db, id, "")
}

func getConsultation(ctx context.Context, q queryer, id, lock string) (domain.Consultation, error) {
	c, err := records.OneAs(ctx, q, "consultation", consultationRow.consultation,
		"SELECT "+consultationColumns+" FROM consultations WHERE id = ?"+lock, id)
	if err != nil {
		return domain.Consultation{}, err
	}
	rs, err := records.All[responseRow](ctx, q, "get responses", "SELECT * FROM consultation_responses WHERE consultation_id = ? ORDER BY id", id)
	if err != nil {
		return domain.Consultation{}, err
	}
	for _, rr := range rs {
		c.Responses = append(c.Responses, rr.response())
	}
	return c, nil
}

// ListConsultations returns a page of consultations, oldest first; lan
// limits it to those concerning one län when set.
func (s *Store) ListConsultations(ctx context.Context, filter listing.Filter, lan string, page listing.Page) ([]domain.Consultation, error) {
	where, args := filter.SQL, filter.Args
	if lan != "" {
		where = "(" + where + ") AND lan_codes LIKE ?"
		args = append(args, "%,"+lan+",%")
	}
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, s.db.Rebind("SELECT id FROM consultations WHERE "+where+" ORDER BY id LIMIT ? OFFSET ?"),
		append(args, page.Limit(), page.Offset)...); err != nil {
		return nil, fmt.Errorf("list consultations: %w", err)
	}
	out := make([]domain.Consultation, 0, len(ids))
	for _, id := range ids {
		c, err := s.GetConsultation(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// LockConsultation reads a consultation with its responses under a lock
// on its row within tx.
func (s *Store) LockConsultation(ctx context.Context, tx *sqlx.Tx, id string) (domain.Consultation, error) {
	return getConsultation(ctx, tx, id, forUpdate(s.db))
}

// InsertResponse stores a response within tx.
func InsertResponse(ctx context.Context, tx *sqlx.Tx, r domain.Response) error {
	_, err := tx.NamedExecContext(ctx, `INSERT INTO consultation_responses
		(id, consultation_id, stance, comment, respondent, lan_code, org_number, create_time)
		VALUES (:id, :consultation_id, :stance, :comment, :respondent, :lan_code, :org_number, :create_time)`,
		responseRow{r.ID, r.ConsultationID, r.Stance, r.Comment, r.Respondent, r.LanCode, r.OrgNumber, fmtTime(r.CreateTime)})
	if err != nil {
		return fmt.Errorf("insert response: %w", err)
	}
	return nil
}

// SaveDecision stores a decided consultation's state and decision within tx
// (its routes are created with CreateRoute).
func SaveDecision(ctx context.Context, tx *sqlx.Tx, c domain.Consultation) error {
	row, err := toConsultationRow(c)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE consultations SET state = ?, decision = ? WHERE id = ?"),
		row.State, row.Decision, c.ID); err != nil {
		return fmt.Errorf("decide consultation: %w", err)
	}
	return nil
}
