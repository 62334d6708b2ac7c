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
	// WithActivity are the kommuner anywhere with an ongoing activity.
	WithActivity []string
}

// activeParticipation is the SQL condition for a certificate that counts as
// an active participant on day ? (bound once): see domain.Certificate.ActiveOn.
const activeParticipation = "(participation IN ('issued', 'started') OR (participation = 'dropped_out' AND end_date >= ?))"

// Coverage aggregates, in a handful of grouped queries (never one per
// kommun), what the coverage picture of lan on day needs. allKommuner are
// the codes of every kommun in Sweden, for the nearest-activity search.
func (s *Store) Coverage(ctx context.Context, lan, day string, allKommuner []string) (CoverageData, error) {
	d := CoverageData{Kommuner: map[string]domain.CoverageInput{}}
	put := func(code string, f func(*domain.CoverageInput)) {
		x := d.Kommuner[code]
		f(&x)
		d.Kommuner[code] = x
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return d, err
	}
	defer func() { _ = tx.Rollback() }()

	// Ongoing activities and their capacity per kommun.
	var acts []struct {
		Kommun   string `db:"kommun_code"`
		N        int32  `db:"n"`
		Capacity int64  `db:"capacity"`
	}
	if err := tx.SelectContext(ctx, &acts, tx.Rebind("SELECT kommun_code, COUNT(*) AS n, COALESCE(SUM(capacity), 0) AS capacity "+
		"FROM activities WHERE lan_code = ? AND end_date >= ? AND start_date <= ? GROUP BY kommun_code"), lan, day, day); err != nil {
		return d, fmt.Errorf("coverage activities: %w", err)
	}
	for _, a := range acts {
		put(a.Kommun, func(x *domain.CoverageInput) { x.Activities, x.Capacity = a.N, a.Capacity })
	}

	// Active participants per kommun.
	var parts []struct {
		Kommun string `db:"kommun_code"`
		N      int64  `db:"n"`
	}
	if err := tx.SelectContext(ctx, &parts, tx.Rebind("SELECT kommun_code, COUNT(*) AS n FROM certificates "+
		"WHERE lan_code = ? AND valid_to >= ? AND valid_from <= ? AND "+activeParticipation+" GROUP BY kommun_code"),
		lan, day, day, day); err != nil {
		return d, fmt.Errorf("coverage participants: %w", err)
	}
	for _, p := range parts {
		put(p.Kommun, func(x *domain.CoverageInput) { x.Participants = p.N })
	}

	// The target group from the latest snapshot.
	var totals []struct {
		Kommun string `db:"kommun_code"`
		Adults int64  `db:"adults"`
		Date   string `db:"reference_date"`
	}
	if err := tx.SelectContext(ctx, &totals, tx.Rebind("SELECT t.kommun_code, t.adults, t.reference_date FROM target_group t "+
		"WHERE t.reference_date = (SELECT MAX(reference_date) FROM snapshots) AND t.lan_code = ?"), lan); err != nil {
		return d, fmt.Errorf("coverage target group: %w", err)
	}
	for _, t := range totals {
		d.SnapshotDate = t.Date
		put(t.Kommun, func(x *domain.CoverageInput) { x.Target = t.Adults })
	}
	if d.SnapshotDate == "" {
		_ = tx.GetContext(ctx, &d.SnapshotDate, "SELECT COALESCE(MAX(reference_date), '') FROM snapshots")
	}

	// The latest projection published.
	var proj []string
	if err := tx.SelectContext(ctx, &proj, "SELECT projection_date FROM projections ORDER BY publish_time DESC, projection_date DESC LIMIT 1"); err != nil {
		return d, fmt.Errorf("coverage projection: %w", err)
	}
	if len(proj) == 1 {
		d.ProjectionDate = proj[0]
		var pt []struct {
			Kommun string `db:"kommun_code"`
			Adults int64  `db:"adults"`
		}
		if err := tx.SelectContext(ctx, &pt, tx.Rebind("SELECT kommun_code, adults FROM projection_totals WHERE projection_date = ? AND lan_code = ?"),
			d.ProjectionDate, lan); err != nil {
			return d, fmt.Errorf("coverage projection totals: %w", err)
		}
		for _, t := range pt {
			put(t.Kommun, func(x *domain.CoverageInput) { x.Projected = t.Adults })
		}
	}

	// Ongoing activities in other kommuner reachable through routes
	// approved that day, per kommun travelled from.
	var routes []struct {
		Kommun   string `db:"from_kommun"`
		N        int32  `db:"n"`
		Capacity int64  `db:"capacity"`
	}
	if err := tx.SelectContext(ctx, &routes, tx.Rebind("SELECT r.from_kommun, COUNT(*) AS n, COALESCE(SUM(a.capacity), 0) AS capacity "+
		"FROM (SELECT DISTINCT from_kommun, to_kommun FROM routes WHERE from_lan = ? AND valid_to >= ? AND valid_from <= ? AND to_kommun <> from_kommun) r "+
		"JOIN activities a ON a.kommun_code = r.to_kommun AND a.end_date >= ? AND a.start_date <= ? GROUP BY r.from_kommun"),
		lan, day, day, day, day); err != nil {
		return d, fmt.Errorf("coverage routes: %w", err)
	}
	for _, r := range routes {
		put(r.Kommun, func(x *domain.CoverageInput) { x.RouteActivities, x.RouteCapacity = r.N, r.Capacity })
	}

	// Kommuner anywhere with an ongoing activity: one index probe per
	// kommun inside a single statement.
	values := strings.TrimSuffix(strings.Repeat("(?),", len(allKommuner)), ",")
	args := make([]any, 0, len(allKommuner)+2)
	for _, k := range allKommuner {
		args = append(args, k)
	}
	args = append(args, day, day)
	if err := tx.SelectContext(ctx, &d.WithActivity, tx.Rebind("SELECT v.column1 FROM (VALUES "+values+") AS v "+
		"WHERE EXISTS (SELECT 1 FROM activities a WHERE a.kommun_code = v.column1 AND a.end_date >= ? AND a.start_date <= ?)"), args...); err != nil {
		return d, fmt.Errorf("coverage kommuner with activities: %w", err)
	}
	return d, tx.Commit()
}

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
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(b.String()), args...); err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	out := make([]domain.Activity, len(rows))
	for i, r := range rows {
		out[i] = r.activity()
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

// ClaimReport records that the scheduled report for lan and the period
// starting periodStart is being sent; false when it already was. also runs
// in the same transaction (it publishes the report).
func (s *Store) ClaimReport(ctx context.Context, lan, periodStart, now string, also func(tx Tx) error) (bool, error) {
	claimed := false
	err := inTx(ctx, s, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO report_runs (lan_code, period_start, create_time) VALUES (?, ?, ?) "+
			"ON CONFLICT (lan_code, period_start) DO NOTHING"), lan, periodStart, now)
		if err != nil {
			return fmt.Errorf("claim report: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		claimed = true
		return also(tx)
	})
	return claimed, err
}
