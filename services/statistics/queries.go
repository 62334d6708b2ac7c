package statistics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/resname"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
	"github.com/tia-platform/tia/services/statistics/internal/store"
)

// protected reports whether the caller gets disclosure control: everyone
// but Migrationsverket, whose figures they are.
func protected(ctx context.Context) bool {
	p, _ := auth.FromContext(ctx)
	return p.Role != auth.RoleMigrationsverket
}

// loaded is a snapshot with its grid and its published figures.
type loaded struct {
	snap      domain.Snapshot
	grid      domain.Grid
	keys      domain.Keys
	published domain.Published
}

// grid returns the snapshot of date and its figures, from the cache when the
// snapshot has not been imported again since.
func (s *Service) grid(ctx context.Context, name, date string) (loaded, error) {
	snap, err := s.get(ctx, name, date)
	if err != nil {
		return loaded{}, err
	}
	return s.gridOf(ctx, snap)
}

func (s *Service) gridOf(ctx context.Context, snap domain.Snapshot) (loaded, error) {
	s.mu.Lock()
	c, ok := s.grids[snap.ReferenceDate]
	if ok && c.importTime.Equal(snap.ImportTime) {
		c.used = time.Now()
		s.grids[snap.ReferenceDate] = c
		s.mu.Unlock()
		return loaded{snap, c.grid, c.keys, c.published}, nil
	}
	s.mu.Unlock()
	name, date := snap.Name(), snap.ReferenceDate
	snap, g, keys, err := s.store.LoadGrid(ctx, date)
	if errors.Is(err, store.ErrKeysMissing) {
		// Imported before cell keys existed: the keys are drawn once, in a
		// unit of work of their own, and the grid read as stored (another
		// replica may have drawn first).
		if err := s.units.Do(ctx, func(w *uow.Work) error { return store.DrawMissingKeys(ctx, w.Tx, date) }); err != nil {
			return loaded{}, err
		}
		snap, g, keys, err = s.store.LoadGrid(ctx, date)
	}
	if errors.Is(err, store.ErrNotFound) {
		return loaded{}, apierr.NotFound(name)
	}
	if err != nil {
		return loaded{}, err
	}
	return s.remember(snap, g, keys), nil
}

// A question is a validated query as the caller may have it answered:
// exactly (Migrationsverket) or with published figures. Its key, by which
// answers are kept, is worked out once however many snapshots it is asked
// of, and so is its layout, when an answer is not kept already.
type question struct {
	q       domain.Query
	protect bool
	key     string
	layout  *domain.Layout
}

func newQuestion(ctx context.Context, q domain.Query) *question {
	protect := protected(ctx)
	return &question{q: q, protect: protect,
		key: fmt.Sprint(protect, "|", strings.Join(q.LanCodes, ","), "|", strings.Join(q.KommunCodes, ","), "|", q.GroupBy)}
}

// published answers qu with the published figures p.
func (qu *question) published(p domain.Published) domain.Table {
	if qu.layout == nil {
		l := qu.q.Layout()
		qu.layout = &l
	}
	return p.Table(*qu.layout)
}

// table answers qu on a loaded snapshot, from the answers kept with its
// grid when the same question was asked before.
func (s *Service) table(l loaded, qu *question) domain.Table {
	s.mu.Lock()
	c, ok := s.grids[l.snap.ReferenceDate]
	ok = ok && c.importTime.Equal(l.snap.ImportTime)
	if ok {
		if t, hit := c.answers[qu.key]; hit {
			s.mu.Unlock()
			return t
		}
	}
	s.mu.Unlock()
	var t domain.Table
	switch {
	case qu.protect:
		t = qu.published(l.published)
	case ok && qu.q.ByPlaceOnly():
		t = domain.Tabulate(c.places.Sum(qu.q), qu.q.GroupBy)
	default:
		t = domain.Tabulate(l.grid.Sum(qu.q), qu.q.GroupBy)
	}
	if ok {
		s.keep(l.snap, qu.key, t)
	}
	return t
}

// keep adds t to the answers kept with snap's grid, unless the grid was
// replaced meanwhile. Past maxCachedAnswers answers or maxCachedRows rows
// the kept ones are dropped first; a larger answer is not kept.
func (s *Service) keep(snap domain.Snapshot, key string, t domain.Table) {
	rows := len(t.Rows) + len(t.Subtotals)
	if rows > maxCachedRows {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.grids[snap.ReferenceDate]
	if !ok || !c.importTime.Equal(snap.ImportTime) {
		return
	}
	if len(c.answers) >= maxCachedAnswers || c.answerRows+rows > maxCachedRows {
		clear(c.answers)
		c.answerRows = 0
	}
	c.answers[key] = t
	c.answerRows += rows
	s.grids[snap.ReferenceDate] = c
}

// figures are a loaded snapshot's kommun, län and overall totals in lans
// (all when empty), exact or published.
func figures(l loaded, lans []string, protect bool) domain.Figures {
	if protect {
		return l.published.Figures(lans)
	}
	return domain.ExactFigures(kommunTotals(l.grid, lans))
}

// remember caches a grid (which is never changed after) with its published
// figures, dropping the least recently used one beyond maxCachedGrids.
func (s *Service) remember(snap domain.Snapshot, g domain.Grid, keys domain.Keys) loaded {
	pub := domain.Publish(g, keys)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grids[snap.ReferenceDate] = cachedGrid{importTime: snap.ImportTime, grid: g, places: g.PlaceTotals(), published: pub, keys: keys, used: time.Now(), answers: map[string]domain.Table{}}
	for len(s.grids) > maxCachedGrids {
		oldest := ""
		for d, c := range s.grids {
			if oldest == "" || c.used.Before(s.grids[oldest].used) {
				oldest = d
			}
		}
		delete(s.grids, oldest)
	}
	return loaded{snap, g, keys, pub}
}

func rowsToProto(rows []domain.Row, date string) []*statisticsv1.QueryRow {
	out := make([]*statisticsv1.QueryRow, len(rows))
	for i, r := range rows {
		out[i] = &statisticsv1.QueryRow{
			LanCode: r.LanCode, KommunCode: r.KommunCode, HousingType: housingToProto[r.Housing],
			Sex: sexToProto[r.Sex], AgeBand: ageBandToProto[r.AgeBand], Count: r.Count, ReferenceDate: date,
		}
	}
	return out
}

// ListSnapshots lists every snapshot, newest first.
func (s *Service) ListSnapshots(ctx context.Context, _ *statisticsv1.ListSnapshotsRequest) (*statisticsv1.ListSnapshotsResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	snaps, err := s.store.List(ctx)
	if err != nil {
		return nil, err
	}
	resp := &statisticsv1.ListSnapshotsResponse{}
	for _, sn := range snaps {
		p, err := s.snapshotFor(ctx, sn)
		if err != nil {
			return nil, err
		}
		resp.Snapshots = append(resp.Snapshots, p)
	}
	if resp.Document, err = document(ctx, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// QueryTimeSeries answers a query on every snapshot in a date range: per
// snapshot the rows of the grouping and, when grouping, a total row.
// Disclosure control applies to each snapshot's table.
func (s *Service) QueryTimeSeries(ctx context.Context, req *statisticsv1.QueryTimeSeriesRequest) (*statisticsv1.QueryTimeSeriesResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	var v badrequest.Violations
	from, to := req.GetFromDate(), req.GetToDate()
	if from != "" && !domain.IsDate(from) {
		v.Add("from_date", "must be a real date, YYYY-MM-DD")
	}
	if to != "" && !domain.IsDate(to) {
		v.Add("to_date", "must be a real date, YYYY-MM-DD")
	}
	if from != "" && to != "" && from > to {
		v.Add("to_date", "must not be before from_date")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	q := domain.Query{LanCodes: req.GetLanCodes(), KommunCodes: req.GetKommunCodes()}
	for _, d := range req.GetGroupBy() {
		q.GroupBy = append(q.GroupBy, dimensionFromProto[d])
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	snaps, err := s.store.List(ctx)
	if err != nil {
		return nil, err
	}
	slices.Reverse(snaps)
	qu := newQuestion(ctx, q)
	resp := &statisticsv1.QueryTimeSeriesResponse{Perturbed: qu.protect}
	for _, sn := range snaps {
		if from != "" && sn.ReferenceDate < from || to != "" && sn.ReferenceDate > to {
			continue
		}
		l, err := s.gridOf(ctx, sn)
		if err != nil {
			return nil, err
		}
		t := s.table(l, qu)
		resp.Rows = append(resp.Rows, rowsToProto(t.Rows, l.snap.ReferenceDate)...)
		if len(q.GroupBy) > 0 {
			resp.Rows = append(resp.Rows, &statisticsv1.QueryRow{ReferenceDate: l.snap.ReferenceDate, Count: t.Total})
		}
	}
	if resp.Document, err = document(ctx, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// kommunTotals sums a grid per kommun in the given län (all when empty).
func kommunTotals(g domain.Grid, lans []string) []domain.KommunTotal {
	all := g.KommunTotals()
	if len(lans) == 0 {
		return all
	}
	var out []domain.KommunTotal
	for _, k := range all {
		if slices.Contains(lans, k.LanCode) {
			out = append(out, k)
		}
	}
	return out
}

func checkLans(lans []string) error {
	return domain.Query{LanCodes: lans}.Validate()
}

// CompareSnapshots gives the change per kommun between two snapshots.
func (s *Service) CompareSnapshots(ctx context.Context, req *statisticsv1.CompareSnapshotsRequest) (*statisticsv1.CompareSnapshotsResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	var v badrequest.Violations
	fromDate, okF := domain.ParseName(req.GetFromSnapshot())
	if !okF {
		v.Add("from_snapshot", badName)
	}
	toDate, okT := domain.ParseName(req.GetToSnapshot())
	if !okT {
		v.Add("to_snapshot", badName)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := checkLans(req.GetLanCodes()); err != nil {
		return nil, err
	}
	lf, err := s.grid(ctx, req.GetFromSnapshot(), fromDate)
	if err != nil {
		return nil, err
	}
	lt, err := s.grid(ctx, req.GetToSnapshot(), toDate)
	if err != nil {
		return nil, err
	}
	protect := protected(ctx)
	rows, totals := domain.Compare(figures(lf, req.GetLanCodes(), protect), figures(lt, req.GetLanCodes(), protect))
	resp := &statisticsv1.CompareSnapshotsResponse{Rows: changeRowsToProto(rows), Totals: changeRowsToProto(totals), Perturbed: protect}
	if resp.Document, err = document(ctx, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

func changeRowsToProto(rows []domain.ChangeRow) []*statisticsv1.ChangeRow {
	out := make([]*statisticsv1.ChangeRow, len(rows))
	for i, r := range rows {
		out[i] = &statisticsv1.ChangeRow{
			LanCode: r.LanCode, KommunCode: r.KommunCode, FromCount: r.From, ToCount: r.To, Change: r.Change,
		}
	}
	return out
}

// CreatePlannedChange registers a planned change and publishes the
// projection to its date.
func (s *Service) CreatePlannedChange(ctx context.Context, req *statisticsv1.CreatePlannedChangeRequest) (*statisticsv1.PlannedChange, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	pc := req.GetPlannedChange()
	c := domain.PlannedChange{
		ID: uuid.NewString(), KommunCode: pc.GetKommunCode(), Housing: housingFromProto[pc.GetHousingType()],
		EffectiveDate: pc.GetEffectiveDate(), AdultsDelta: pc.GetAdultsDelta(), Description: strings.TrimSpace(pc.GetDescription()),
		CreateTime: s.clock.Now().UTC(),
	}
	if err := c.Validate(); err != nil {
		return nil, badrequest.Prefix("planned_change", err)
	}
	ev, err := s.projectionAfter(ctx, c.EffectiveDate, &c, "")
	if err != nil {
		return nil, err
	}
	return uow.Once(ctx, s.units, uow.Request{Method: statisticsv1.StatisticsService_CreatePlannedChange_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*statisticsv1.PlannedChange, error) {
			if err := store.CreateChange(ctx, w.Tx, c); err != nil {
				return nil, err
			}
			if ev != nil {
				if err := publish(w, ev); err != nil {
					return nil, err
				}
			}
			return changeToProto(c), nil
		})
}

// projectionAfter is the ProjectionPublished event for date with the change
// added (or the change of id left out), to be published in the unit of work
// that stores the change. Without a snapshot there is nothing to project
// from, and no event (nil).
func (s *Service) projectionAfter(ctx context.Context, date string, added *domain.PlannedChange, removed string) (*statisticsv1.ProjectionPublished, error) {
	snaps, err := s.store.List(ctx)
	if err != nil || len(snaps) == 0 {
		return nil, err
	}
	latest, err := s.gridOf(ctx, snaps[0])
	if err != nil {
		return nil, err
	}
	if date < latest.snap.ReferenceDate {
		return nil, nil // the change is already in the snapshots
	}
	changes, err := s.store.Changes(ctx, nil)
	if err != nil {
		return nil, err
	}
	changes = slices.DeleteFunc(changes, func(c domain.PlannedChange) bool { return c.ID == removed })
	if added != nil {
		changes = append(changes, *added)
	}
	return projectionEvent(latest.snap, latest.published, changes, date, s.clock.Now()), nil
}

// ListPlannedChanges lists planned changes by date.
func (s *Service) ListPlannedChanges(ctx context.Context, req *statisticsv1.ListPlannedChangesRequest) (*statisticsv1.ListPlannedChangesResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	if err := checkLans(req.GetLanCodes()); err != nil {
		return nil, err
	}
	changes, err := s.store.Changes(ctx, req.GetLanCodes())
	if err != nil {
		return nil, err
	}
	resp := &statisticsv1.ListPlannedChangesResponse{}
	for _, c := range changes {
		resp.PlannedChanges = append(resp.PlannedChanges, changeToProto(c))
	}
	if resp.Document, err = document(ctx, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// DeletePlannedChange withdraws a planned change and publishes the
// projection to its date without it.
func (s *Service) DeletePlannedChange(ctx context.Context, req *statisticsv1.DeletePlannedChangeRequest) (*emptypb.Empty, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	vars, err := plannedChangeName.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	id := vars[0]
	all, err := s.store.Changes(ctx, nil)
	if err != nil {
		return nil, err
	}
	var date string
	for _, c := range all {
		if c.ID == id {
			date = c.EffectiveDate
		}
	}
	if date == "" {
		return nil, apierr.NotFound(req.GetName())
	}
	ev, err := s.projectionAfter(ctx, date, nil, id)
	if err != nil {
		return nil, err
	}
	err = s.units.Do(ctx, func(w *uow.Work) error {
		if _, err := store.DeleteChange(ctx, w.Tx, id); err != nil {
			return err
		}
		if ev == nil {
			return nil
		}
		return publish(w, ev)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound(req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// plannedChangeName is the pattern of a planned change's name.
var plannedChangeName = resname.New("plannedChanges/{planned_change}")

func changeToProto(c domain.PlannedChange) *statisticsv1.PlannedChange {
	return &statisticsv1.PlannedChange{
		Name: c.Name(), KommunCode: c.KommunCode, HousingType: housingToProto[c.Housing], EffectiveDate: c.EffectiveDate,
		AdultsDelta: c.AdultsDelta, Description: c.Description, CreateTime: timestamppb.New(c.CreateTime),
	}
}

// GetProjection projects the latest snapshot to a future date.
func (s *Service) GetProjection(ctx context.Context, req *statisticsv1.GetProjectionRequest) (*statisticsv1.Projection, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	if !domain.IsDate(req.GetProjectionDate()) {
		return nil, badrequest.Field("projection_date", "must be a real date, YYYY-MM-DD")
	}
	if err := checkLans(req.GetLanCodes()); err != nil {
		return nil, err
	}
	snaps, err := s.store.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(snaps) == 0 {
		return nil, apierr.New(errNoSnapshot, "no snapshot has been imported yet")
	}
	if err := domain.CheckProjectionDate(req.GetProjectionDate(), snaps[0].ReferenceDate); err != nil {
		return nil, err
	}
	latest, err := s.gridOf(ctx, snaps[0])
	if err != nil {
		return nil, err
	}
	changes, err := s.store.Changes(ctx, req.GetLanCodes())
	if err != nil {
		return nil, err
	}
	protect := protected(ctx)
	rows, totals := domain.Project(figures(latest, req.GetLanCodes(), protect), changes, latest.snap.ReferenceDate, req.GetProjectionDate())
	resp := &statisticsv1.Projection{
		Snapshot: latest.snap.Name(), ProjectionDate: req.GetProjectionDate(),
		Rows: projectionRowsToProto(rows), Totals: projectionRowsToProto(totals), Perturbed: protect,
	}
	if resp.Document, err = document(ctx, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

func projectionRowsToProto(rows []domain.ProjectionRow) []*statisticsv1.ProjectionRow {
	out := make([]*statisticsv1.ProjectionRow, len(rows))
	for i, r := range rows {
		out[i] = &statisticsv1.ProjectionRow{
			LanCode: r.LanCode, KommunCode: r.KommunCode, SnapshotCount: r.SnapshotCount, PlannedDelta: r.PlannedDelta,
			ProjectedCount: r.Projected,
		}
	}
	return out
}
