package activity

import (
	"bytes"
	"context"
	"encoding/csv"
	"sort"
	"strconv"
	"sync"
	"time"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// allKommunCodes are the 290 kommun codes, for the nearest-activity search.
var allKommunCodes = func() []string {
	var out []string
	for _, k := range refdata.Kommuner() {
		out = append(out, k.Code)
	}
	return out
}()

func (s *Service) coverage(ctx context.Context, name, date string) (*activityv1.Coverage, error) {
	lan, err := s.lanOf(ctx, coverageName, "name", name)
	if err != nil {
		return nil, err
	}
	if date == "" {
		date = s.todayString()
	} else if _, err := clock.ParseDate(date); err != nil {
		return nil, badrequest.Field("date", "must be a real date written YYYY-MM-DD")
	}
	var inLan []string
	for _, k := range refdata.KommunerIn(lan) {
		inLan = append(inLan, k.Code)
	}
	data, err := s.store.Coverage(ctx, lan, date, inLan)
	if err != nil {
		return nil, err
	}
	withActivity, err := s.supply.get(ctx, date, func() ([]string, error) {
		return s.store.KommunerWithActivity(ctx, date, allKommunCodes)
	})
	if err != nil {
		return nil, err
	}
	c := domain.ComputeCoverage(lan, data.Kommuner, withActivity)
	out := &activityv1.Coverage{
		Name: "lan/" + lan + "/coverage", Date: date, SnapshotDate: data.SnapshotDate, ProjectionDate: data.ProjectionDate,
		Total: kommunCoverageToProto(c.Total), RankedUnmetNeed: c.Ranked,
	}
	if lanRef, ok := refdata.LanByCode(lan); ok {
		out.Total.KommunName = lanRef.Name
	}
	for _, k := range c.Kommuner {
		out.Kommuner = append(out.Kommuner, kommunCoverageToProto(k))
	}
	return out, nil
}

func kommunCoverageToProto(k domain.KommunCoverage) *activityv1.KommunCoverage {
	return &activityv1.KommunCoverage{
		KommunCode: k.Code, KommunName: k.Name, TargetGroup: k.Target, ProjectedTargetGroup: k.Projected,
		OngoingActivities: k.Activities, Capacity: k.Capacity, ActiveParticipants: k.Participants,
		Utilisation: k.Utilisation, NearestActivityKm: k.NearestKm, NearestActivityKommunCode: k.NearestKommun,
		RouteActivities: k.RouteActivities, RouteCapacity: k.RouteCapacity, UnmetNeed: k.UnmetNeed,
	}
}

// GetCoverage returns the coverage picture of a län. County boards see
// counts only, never who the participants are.
func (s *Service) GetCoverage(ctx context.Context, req *activityv1.GetCoverageRequest) (*activityv1.Coverage, error) {
	return s.coverage(ctx, req.GetName(), req.GetDate())
}

// CoverageCSVHeader is the header line of the coverage CSV.
var CoverageCSVHeader = []string{"kommun_code", "kommun_name", "target_group", "projected_target_group", "ongoing_activities",
	"capacity", "active_participants", "utilisation", "nearest_activity_km", "nearest_activity_kommun_code",
	"route_activities", "route_capacity", "unmet_need", "unmet_need_rank"}

// ExportCoverage returns the coverage picture as CSV.
func (s *Service) ExportCoverage(ctx context.Context, req *activityv1.ExportCoverageRequest) (*activityv1.ExportCoverageResponse, error) {
	c, err := s.coverage(ctx, req.GetName(), req.GetDate())
	if err != nil {
		return nil, err
	}
	rank := map[string]int{}
	for i, k := range c.GetRankedUnmetNeed() {
		rank[k] = i + 1
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(CoverageCSVHeader)
	for _, k := range append(c.GetKommuner(), c.GetTotal()) {
		r := ""
		if n := rank[k.GetKommunCode()]; n > 0 {
			r = strconv.Itoa(n)
		}
		_ = w.Write([]string{k.GetKommunCode(), k.GetKommunName(), itoa64(k.GetTargetGroup()), itoa64(k.GetProjectedTargetGroup()),
			itoa64(int64(k.GetOngoingActivities())), itoa64(k.GetCapacity()), itoa64(k.GetActiveParticipants()),
			strconv.FormatFloat(k.GetUtilisation(), 'f', 3, 64), strconv.FormatFloat(k.GetNearestActivityKm(), 'f', 1, 64),
			k.GetNearestActivityKommunCode(), itoa64(int64(k.GetRouteActivities())), itoa64(k.GetRouteCapacity()),
			itoa64(k.GetUnmetNeed()), r})
	}
	w.Flush()
	return &activityv1.ExportCoverageResponse{ContentType: "text/csv; charset=utf-8", Csv: buf.String()}, nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// SearchCatalogue is the public catalogue: no token, no personal data.
func (s *Service) SearchCatalogue(ctx context.Context, req *activityv1.SearchCatalogueRequest) (*activityv1.SearchCatalogueResponse, error) {
	home, ok := refdata.KommunByCode(req.GetKommunCode())
	if !ok {
		return nil, badrequest.Field("kommun_code", "unknown kommun code "+quote(req.GetKommunCode()))
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	today := s.todayString()
	type place struct {
		code  string
		km    float64
		route bool
	}
	places := map[string]*place{home.Code: {code: home.Code}}
	if r := req.GetWithinKm(); r > 0 {
		for _, k := range refdata.Kommuner() {
			if d := refdata.DistanceKm(home, k); k.Code != home.Code && d <= r {
				places[k.Code] = &place{code: k.Code, km: d}
			}
		}
	}
	if req.GetIncludeRoutes() {
		to, err := s.store.RoutesFrom(ctx, home.Code, today)
		if err != nil {
			return nil, err
		}
		for _, code := range to {
			if p, ok := places[code]; ok {
				p.route = true
			} else if k, ok := refdata.KommunByCode(code); ok {
				places[code] = &place{code: code, km: refdata.DistanceKm(home, k), route: true}
			}
		}
	}
	ordered := make([]*place, 0, len(places))
	for _, p := range places {
		ordered = append(ordered, p)
	}
	sort.Slice(ordered, func(i, j int) bool {
		if ordered[i].km != ordered[j].km {
			return ordered[i].km < ordered[j].km
		}
		return ordered[i].code < ordered[j].code
	})
	codes := make([]string, len(ordered))
	for i, p := range ordered {
		codes[i] = p.code
	}
	var focus domain.Focus
	if f := req.GetFocus(); f != activityv1.Focus_FOCUS_UNSPECIFIED {
		focus = focusFromProto[f]
	}
	list, err := s.store.Catalogue(ctx, store.CatalogueQuery{Kommuner: codes, Day: today, Focus: focus,
		Language: req.GetLanguage(), Limit: page.Limit(), Offset: page.Offset})
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &activityv1.SearchCatalogueResponse{NextPageToken: next}
	now := s.local()
	for _, a := range list {
		p := places[a.KommunCode]
		resp.Entries = append(resp.Entries, &activityv1.CatalogueEntry{
			Activity: toProto(a, now), DistanceKm: roundKm(p.km), ViaRoute: p.route,
		})
	}
	return resp, nil
}

func roundKm(km float64) float64 { return float64(int64(km*10+0.5)) / 10 }

// GetFolkbildningReport lists the activities of study associations and folk
// high schools that started in a län during a period.
func (s *Service) GetFolkbildningReport(ctx context.Context, req *activityv1.GetFolkbildningReportRequest) (*activityv1.FolkbildningReport, error) {
	p, vars, err := admit(ctx, lanName, "lan", req.GetLan(), auth.RoleCountyBoard, auth.RoleMigrationsverket, auth.RoleFolkbildningsradet)
	if err != nil {
		return nil, err
	}
	lan := vars[0]
	if p.Role == auth.RoleCountyBoard && p.Lan != lan {
		return nil, apierr.Denied("a county board sees only its own län (%s)", p.Lan)
	}
	var v badrequest.Violations
	if !domain.KnownLan(lan) {
		// The län is what the report is filtered by: an unknown one is a
		// mistake in the request, not an empty report.
		v.Add("lan", "unknown län code "+quote(lan))
	}
	from, errFrom := clock.ParseDate(req.GetStartDate())
	if errFrom != nil {
		v.Add("start_date", "must be a real date written YYYY-MM-DD")
	}
	to, errTo := clock.ParseDate(req.GetEndDate())
	if errTo != nil {
		v.Add("end_date", "must be a real date written YYYY-MM-DD")
	}
	if errFrom == nil && errTo == nil && to.Before(from) {
		v.Add("end_date", "must not be before start_date")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.folkbildningReport(ctx, lan, req.GetStartDate(), req.GetEndDate())
}

func (s *Service) folkbildningReport(ctx context.Context, lan, from, to string) (*activityv1.FolkbildningReport, error) {
	list, err := s.store.Started(ctx, lan, from, to, []domain.Kind{domain.KindStudyAssociation, domain.KindFolkHighSchool})
	if err != nil {
		return nil, err
	}
	r := &activityv1.FolkbildningReport{Lan: "lan/" + lan, StartDate: from, EndDate: to}
	per := map[string]*activityv1.KommunStarts{}
	for _, a := range list {
		sa := &activityv1.StartedActivity{
			Activity: a.Name(), Title: a.Title, Organiser: "organisers/" + a.Org, OrganiserKind: kindToProto[a.Kind],
			KommunCode: a.KommunCode, StartDate: a.StartDate, Capacity: a.Capacity,
		}
		for _, f := range a.Focus {
			sa.Focus = append(sa.Focus, focusToProto[f])
		}
		r.Activities = append(r.Activities, sa)
		r.TotalCapacity += int64(a.Capacity)
		k := per[a.KommunCode]
		if k == nil {
			ref, _ := refdata.KommunByCode(a.KommunCode)
			k = &activityv1.KommunStarts{KommunCode: a.KommunCode, KommunName: ref.Name}
			per[a.KommunCode] = k
		}
		k.Activities++
		k.Capacity += int64(a.Capacity)
	}
	for _, k := range per {
		r.Kommuner = append(r.Kommuner, k)
	}
	sort.Slice(r.Kommuner, func(i, j int) bool { return r.Kommuner[i].KommunCode < r.Kommuner[j].KommunCode })
	return r, nil
}

// supplyCache keeps, per day, the kommuner in Sweden with an ongoing
// activity: the same for every län's coverage picture, and changed only by
// activities being registered or changed (which clear it here) or by time
// (so it is also renewed after supplyTTL, for changes made through other
// replicas).
type supplyCache struct {
	mu       sync.Mutex
	day      string
	at       time.Time
	kommuner []string
}

// supplyTTL bounds how stale the nearest-activity distances can be when
// another replica registers an activity.
const supplyTTL = 30 * time.Second

func (c *supplyCache) get(ctx context.Context, day string, load func() ([]string, error)) ([]string, error) {
	c.mu.Lock()
	if c.day == day && time.Since(c.at) < supplyTTL {
		k := c.kommuner
		c.mu.Unlock()
		return k, nil
	}
	c.mu.Unlock()
	k, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.day, c.at, c.kommuner = day, time.Now(), k
	c.mu.Unlock()
	return k, nil
}

// clear forgets the cached set after a change of activities.
func (c *supplyCache) clear() {
	c.mu.Lock()
	c.day = ""
	c.mu.Unlock()
}
