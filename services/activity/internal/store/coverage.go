package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/tia-platform/tia/services/activity/internal/domain"
)

// CoverageData is what the store aggregates for the coverage picture of a
// län on a day.
type CoverageData struct {
	SnapshotDate   string
	ProjectionDate string
	Kommuner       map[string]domain.CoverageInput
}

// activeParticipation is the SQL condition for a certificate that counts as
// an active participant on day ? (bound once): see domain.Certificate.ActiveOn.
const activeParticipation = "(participation IN ('issued', 'started') OR (participation = 'dropped_out' AND end_date >= ?))"

// Coverage aggregates what the coverage picture of lan on day needs in two
// statements (never one per kommun): the routes approved that day from the
// län, then one UNION ALL of grouped aggregates, each answered by a covering
// index: ongoing activities per kommun (the län's and those its routes lead
// to), active participants per kommun, the target group of the latest
// snapshot and the latest projection. lanKommuner are the codes of the
// län's kommuner.
func (s *Store) Coverage(ctx context.Context, lan, day string, lanKommuner []string) (CoverageData, error) {
	d := CoverageData{Kommuner: map[string]domain.CoverageInput{}}
	put := func(code string, f func(*domain.CoverageInput)) {
		x := d.Kommuner[code]
		f(&x)
		d.Kommuner[code] = x
	}

	var routes []struct {
		From string `db:"from_kommun"`
		To   string `db:"to_kommun"`
	}
	if err := s.db.SelectContext(ctx, &routes, s.db.Rebind("SELECT DISTINCT from_kommun, to_kommun FROM routes "+
		"WHERE from_lan = ? AND valid_to >= ? AND valid_from <= ? AND to_kommun <> from_kommun"), lan, day, day); err != nil {
		return d, fmt.Errorf("coverage routes: %w", err)
	}
	codes := append([]string(nil), lanKommuner...)
	for _, r := range routes {
		codes = append(codes, r.To)
	}

	supplySQL, args := inList("SELECT 'a' AS kind, kommun_code AS k, COUNT(*) AS n, COALESCE(SUM(capacity), 0) AS v FROM activities "+
		"WHERE kommun_code IN (%s) AND end_date >= ? AND start_date <= ? GROUP BY kommun_code", codes, day, day)
	q := supplySQL +
		" UNION ALL SELECT 'p', kommun_code, COUNT(*), 0 FROM certificates WHERE lan_code = ? AND valid_to >= ? AND valid_from <= ? AND " +
		activeParticipation + " GROUP BY kommun_code" +
		" UNION ALL SELECT 't', kommun_code, 0, adults FROM target_group WHERE reference_date = (SELECT MAX(reference_date) FROM snapshots) AND lan_code = ?" +
		" UNION ALL SELECT 's', COALESCE(MAX(reference_date), ''), 0, 0 FROM snapshots" +
		" UNION ALL SELECT 'j', kommun_code, 0, adults FROM projection_totals WHERE projection_date = (" + latestProjection + ") AND lan_code = ?" +
		" UNION ALL SELECT 'd', COALESCE((" + latestProjection + "), ''), 0, 0"
	args = append(args, lan, day, day, day, lan, lan)
	var rows []struct {
		Kind string `db:"kind"`
		K    string `db:"k"`
		N    int64  `db:"n"`
		V    int64  `db:"v"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return d, fmt.Errorf("coverage: %w", err)
	}
	inLan := make(map[string]bool, len(lanKommuner))
	for _, k := range lanKommuner {
		inLan[k] = true
	}
	supply := map[string]domain.CoverageInput{}
	for _, r := range rows {
		switch r.Kind {
		case "a":
			supply[r.K] = domain.CoverageInput{Activities: int32(r.N), Capacity: r.V}
			if inLan[r.K] {
				put(r.K, func(x *domain.CoverageInput) { x.Activities, x.Capacity = int32(r.N), r.V })
			}
		case "p":
			put(r.K, func(x *domain.CoverageInput) { x.Participants = r.N })
		case "t":
			put(r.K, func(x *domain.CoverageInput) { x.Target = r.V })
		case "j":
			put(r.K, func(x *domain.CoverageInput) { x.Projected = r.V })
		case "s":
			d.SnapshotDate = r.K
		case "d":
			d.ProjectionDate = r.K
		}
	}
	for _, r := range routes {
		x := supply[r.To]
		put(r.From, func(in *domain.CoverageInput) {
			in.RouteActivities += x.Activities
			in.RouteCapacity += x.Capacity
		})
	}
	return d, nil
}

// latestProjection selects the date of the projection published last.
const latestProjection = "SELECT projection_date FROM projections ORDER BY publish_time DESC, projection_date DESC LIMIT 1"

// CatalogueQuery is a public catalogue search.
type CatalogueQuery struct {
	// Kommuner to search, in the order results should come (nearest first).
	Kommuner []string
	Day      string
	Focus    domain.Focus // empty for any
	Language string       // empty for any
	Limit    int
	Offset   int64
}

// Catalogue returns planned and ongoing activities (not ended on Day) in
// q.Kommuner matching focus and language, ordered by the kommuner's order,
// then start date and name.
func (s *Store) Catalogue(ctx context.Context, q CatalogueQuery) ([]domain.Activity, error) {
	if len(q.Kommuner) == 0 {
		return nil, nil
	}
	var b strings.Builder
	args := make([]any, 0, 3*len(q.Kommuner)+5)
	b.WriteString("SELECT " + columns + " FROM activities WHERE kommun_code IN (")
	for i, k := range q.Kommuner {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("?")
		args = append(args, k)
	}
	b.WriteString(") AND end_date >= ?")
	args = append(args, q.Day)
	if q.Focus != "" {
		b.WriteString(" AND focus LIKE ?")
		args = append(args, "%"+string(q.Focus)+"%")
	}
	if q.Language != "" {
		b.WriteString(" AND languages LIKE ?")
		args = append(args, "%,"+q.Language+",%")
	}
	b.WriteString(" ORDER BY ")
	if len(q.Kommuner) > 1 {
		b.WriteString("CASE kommun_code")
		for i, k := range q.Kommuner {
			b.WriteString(" WHEN ? THEN ")
			b.WriteString(fmt.Sprint(i))
			args = append(args, k)
		}
		b.WriteString(" END, ")
	}
	b.WriteString("start_date, org_number, id LIMIT ? OFFSET ?")
	args = append(args, q.Limit, q.Offset)
	// Scanned by hand: the public search is the registry's hottest path.
	rows, err := s.reads.QueryContext(ctx, s.db.Rebind(b.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	defer rows.Close()
	out := make([]domain.Activity, 0, q.Limit)
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.Org, &r.ID, &r.Title, &r.KommunCode, &r.LanCode, &r.Focus, &r.Capacity, &r.StartDate, &r.EndDate,
			&r.CreateTime, &r.UpdateTime, &r.Funding, &r.Programme, &r.Agreement, &r.Address, &r.Schedule, &r.Languages); err != nil {
			return nil, fmt.Errorf("catalogue: %w", err)
		}
		out = append(out, r.activity())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	return out, nil
}

// RoutesFrom returns the kommuner reachable from kommun through routes
// approved on day.
func (s *Store) RoutesFrom(ctx context.Context, kommun, day string) ([]string, error) {
	var out []string
	err := s.db.SelectContext(ctx, &out, s.db.Rebind("SELECT DISTINCT to_kommun FROM routes WHERE from_kommun = ? "+
		"AND valid_to >= ? AND valid_from <= ? AND to_kommun <> from_kommun ORDER BY to_kommun"), kommun, day, day)
	if err != nil {
		return nil, fmt.Errorf("routes from %s: %w", kommun, err)
	}
	return out, nil
}

// StartedActivity is an activity with its organiser's kind.
type StartedActivity struct {
	domain.Activity
	Kind domain.Kind
}

// Started returns the activities of organisers of kinds that started in lan
// between from and to (inclusive), by start date.
func (s *Store) Started(ctx context.Context, lan, from, to string, kinds []domain.Kind) ([]StartedActivity, error) {
	var rows []struct {
		row
		Kind string `db:"kind"`
	}
	ks := make([]string, len(kinds))
	args := []any{lan, from, to}
	for i, k := range kinds {
		ks[i] = "?"
		args = append(args, string(k))
	}
	cols := "a." + strings.ReplaceAll(columns, ", ", ", a.")
	q := "SELECT " + cols + ", o.kind FROM activities a JOIN organisers o ON o.org_number = a.org_number " +
		"WHERE a.lan_code = ? AND a.start_date >= ? AND a.start_date <= ? AND o.kind IN (" + strings.Join(ks, ",") + ") " +
		"ORDER BY a.start_date, a.kommun_code, a.org_number, a.id"
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("started activities: %w", err)
	}
	out := make([]StartedActivity, len(rows))
	for i, r := range rows {
		out[i] = StartedActivity{Activity: r.activity(), Kind: domain.Kind(r.Kind)}
	}
	return out, nil
}

// ClaimReport records within tx that the scheduled report for lan and the
// period (its key, "from/to") is being sent; false when it already was.
func ClaimReport(ctx context.Context, tx Tx, lan, period, now string) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO report_runs (lan_code, period_start, create_time) VALUES (?, ?, ?) "+
		"ON CONFLICT (lan_code, period_start) DO NOTHING"), lan, period, now)
	if err != nil {
		return false, fmt.Errorf("claim report: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// inList fills the %s of q with one placeholder per code and returns the
// arguments: the codes, then rest.
func inList(q string, codes []string, rest ...any) (string, []any) {
	args := make([]any, 0, len(codes)+len(rest))
	for _, c := range codes {
		args = append(args, c)
	}
	return fmt.Sprintf(q, strings.TrimSuffix(strings.Repeat("?,", len(codes)), ",")), append(args, rest...)
}

// KommunerWithActivity returns those of kommuner (every kommun in Sweden,
// for the nearest-activity search) with an activity ongoing on day: one
// index probe per kommun inside a single statement.
func (s *Store) KommunerWithActivity(ctx context.Context, day string, kommuner []string) ([]string, error) {
	var out []string
	values := strings.TrimSuffix(strings.Repeat("(?),", len(kommuner)), ",")
	args := make([]any, 0, len(kommuner)+2)
	for _, k := range kommuner {
		args = append(args, k)
	}
	args = append(args, day, day)
	if err := s.db.SelectContext(ctx, &out, s.db.Rebind("SELECT v.column1 FROM (VALUES "+values+") AS v "+
		"WHERE EXISTS (SELECT 1 FROM activities a WHERE a.kommun_code = v.column1 AND a.end_date >= ? AND a.start_date <= ?)"), args...); err != nil {
		return nil, fmt.Errorf("kommuner with activities: %w", err)
	}
	return out, nil
}
