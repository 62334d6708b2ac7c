package statistics

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
	"github.com/tia-platform/tia/services/statistics/internal/store"
)

// errMixed is returned by the CSV reader when rows arrive among the CSV.
var errMixed = errors.New("mixed")

// importStream is what the two streamed imports have in common: a header,
// then CSV pieces or rows.
type importStream[M any] struct {
	recv    func() (M, error)
	header  func(M) *statisticsv1.ImportHeader
	csvData func(M) ([]byte, bool)
}

// chunkReader reads the csv_data of consecutive messages as one stream.
type chunkReader[M any] struct {
	st      importStream[M]
	buf     []byte
	pending *M // the first message, already received
}

func (r *chunkReader[M]) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		var m M
		if r.pending != nil {
			m, r.pending = *r.pending, nil
		} else {
			var err error
			if m, err = r.st.recv(); err != nil {
				return 0, err
			}
		}
		b, ok := r.st.csvData(m)
		if !ok {
			return 0, errMixed
		}
		r.buf = b
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// ImportPersons counts a person-level extract into a snapshot.
func (s *Service) ImportPersons(stream statisticsv1.StatisticsService_ImportPersonsServer) error {
	return serveImport(s, stream, domain.NewPersonImport, func(m *statisticsv1.ImportPersonsRequest) ([]*statisticsv1.PersonRow, bool) {
		b := m.GetPersons()
		return b.GetRows(), b != nil
	}, func(im *domain.Import, row int, r *statisticsv1.PersonRow) {
		im.AddPerson("row", row, r.GetKommunCode(), housingFromProto[r.GetHousingType()], sexFromProto[r.GetSex()], r.GetDateOfBirth())
	})
}

// ImportCells stores pre-aggregated cells as a snapshot.
func (s *Service) ImportCells(stream statisticsv1.StatisticsService_ImportCellsServer) error {
	return serveImport(s, stream, domain.NewCellImport, func(m *statisticsv1.ImportCellsRequest) ([]*statisticsv1.Cell, bool) {
		b := m.GetCells()
		return b.GetCells(), b != nil
	}, func(im *domain.Import, row int, c *statisticsv1.Cell) {
		im.AddCell("row", row, cellFromProto(c))
	})
}

// importServer is the server side of a streamed import.
type importServer[M any] interface {
	Recv() (M, error)
	SendAndClose(*statisticsv1.ImportSummary) error
	Context() context.Context
}

// serveImport runs a streamed import whose row messages carry rows of R
// (rowsOf: false when a message carries no rows), adding each row with add
// until the import stops, and answers with its summary.
func serveImport[M csvCarrier, R any](s *Service, stream importServer[M], start func(string, domain.Limits) *domain.Import,
	rowsOf func(M) ([]R, bool), add func(im *domain.Import, row int, r R),
) error {
	st := importStream[M]{recv: stream.Recv, header: M.GetHeader, csvData: csvOf[M]}
	summary, err := runImport(stream.Context(), s, st, start, func(im *domain.Import, m M, row *int) bool {
		rows, ok := rowsOf(m)
		if !ok {
			return false
		}
		for _, r := range rows {
			*row++
			add(im, *row, r)
			if im.Stopped() {
				break
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return stream.SendAndClose(summary)
}

type csvCarrier interface {
	GetHeader() *statisticsv1.ImportHeader
}

// csvOf returns the CSV a message carries, and false when it carries
// something else.
func csvOf[M csvCarrier](m M) ([]byte, bool) {
	switch k := any(m).(type) {
	case *statisticsv1.ImportPersonsRequest:
		if x, ok := k.GetKind().(*statisticsv1.ImportPersonsRequest_CsvData); ok {
			return x.CsvData, true
		}
	case *statisticsv1.ImportCellsRequest:
		if x, ok := k.GetKind().(*statisticsv1.ImportCellsRequest_CsvData); ok {
			return x.CsvData, true
		}
	}
	return nil, false
}

// runImport reads the header, then the CSV or the rows, and stores the
// snapshot with its event in one transaction. Nothing is written unless the
// whole stream was read without a mistake.
func runImport[M csvCarrier](ctx context.Context, s *Service, st importStream[M], start func(string, domain.Limits) *domain.Import,
	addRows func(*domain.Import, M, *int) bool,
) (*statisticsv1.ImportSummary, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	first, err := st.recv()
	if errors.Is(err, io.EOF) {
		return nil, badrequest.Field("header", "the first message must be the header naming the snapshot")
	}
	if err != nil {
		return nil, err
	}
	hdr := st.header(first)
	if hdr == nil {
		return nil, badrequest.Field("header", "the first message must be the header naming the snapshot")
	}
	date, err := referenceDate("header.snapshot", hdr.GetSnapshot())
	if err != nil {
		return nil, err
	}
	im := start(date, s.limits)

	next, err := st.recv()
	switch {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		if _, isCSV := st.csvData(next); isCSV {
			r := &chunkReader[M]{st: st, pending: &next}
			if err := im.ReadCSV(r); err != nil {
				if !errors.Is(err, errMixed) {
					return nil, err
				}
				im.Fail("csv_data", "CSV and rows are mixed in one import; send one or the other")
			}
		} else {
			row := 0
			for m := next; ; {
				if !addRows(im, m, &row) {
					im.Fail("header", "a second header, or CSV among rows; send one header, then CSV or rows")
				}
				if im.Stopped() {
					break
				}
				m, err = st.recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return nil, err
				}
			}
		}
	}
	grid, err := im.Finish()
	if err != nil {
		return nil, err
	}
	change, err := s.newGridChange(ctx, date, grid, im.Keys())
	if err != nil {
		return nil, err
	}
	var replaced bool
	if err := s.units.Do(ctx, func(w *uow.Work) error {
		replaced, err = change.apply(ctx, w)
		return err
	}); err != nil {
		return nil, err
	}
	s.remember(change.snap, grid, change.keys)
	return &statisticsv1.ImportSummary{
		Snapshot: snapshotToProto(change.snap, false), RowsRead: im.Rows, Under_18: im.Under18, Adults: change.snap.Total, Replaced: replaced,
	}, nil
}

// gridChange is a snapshot about to replace its reference date's: the
// cells with their keys and the events that go with them, prepared from
// what is stored before the unit of work that writes it.
type gridChange struct {
	snap  domain.Snapshot
	grid  domain.Grid
	keys  domain.Keys
	cells []domain.Cell
	// events carry published figures: they reach services whose readers
	// are not Migrationsverket.
	events []proto.Message
}

// newGridChange prepares the snapshot of date from grid and its cell keys
// with SnapshotPublished and the projections it moves.
func (s *Service) newGridChange(ctx context.Context, date string, grid domain.Grid, keys domain.Keys) (*gridChange, error) {
	if err := s.keepKeys(ctx, date, grid, keys); err != nil {
		return nil, err
	}
	cells := grid.CellsKeyed(keys)
	snap := domain.Snapshot{ReferenceDate: date, CellCount: int64(len(cells)), Total: grid.Total(), ImportTime: s.clock.Now().UTC()}
	published := domain.Publish(grid, keys)
	projections, err := s.projectionsFrom(ctx, snap, published)
	if err != nil {
		return nil, err
	}
	evs := []proto.Message{&statisticsv1.SnapshotPublished{
		Snapshot: snap.Name(), ReferenceDate: snap.ReferenceDate, PublishTime: timestamppb.New(snap.ImportTime),
		KommunTotals: kommunTotalsToProto(published.KommunTotals()), Perturbed: true,
	}}
	for _, p := range projections {
		evs = append(evs, p)
	}
	return &gridChange{snap: snap, grid: grid, keys: keys, cells: cells, events: evs}, nil
}

// apply replaces the snapshot and publishes its events in w, all or
// nothing. It reports whether an earlier import of the date was replaced.
func (c *gridChange) apply(ctx context.Context, w *uow.Work) (bool, error) {
	replaced, err := store.Replace(ctx, w.Tx, c.snap, c.cells)
	if err != nil {
		return false, err
	}
	for _, ev := range c.events {
		if err := publish(w, ev); err != nil {
			return false, err
		}
	}
	return replaced, nil
}

// keepKeys gives the cells of a re-imported date whose count is unchanged
// the key they had. A re-import (a correction, or the same file again)
// then changes only the figures of the cells it changes: were every key
// drawn afresh, each re-import would give readers another independent noise
// on the same true counts, and enough of them would average it away.
func (s *Service) keepKeys(ctx context.Context, date string, grid domain.Grid, keys domain.Keys) error {
	prev, err := s.store.Get(ctx, date)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	old, err := s.gridOf(ctx, prev)
	if errors.Is(err, apierr.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for i, n := range grid {
		if n == old.grid[i] {
			keys[i] = old.keys[i]
		}
	}
	return nil
}

// projectionsFrom gives, when snap is (or will be) the latest snapshot, the
// projection to each date on which planned changes after it take effect:
// a new starting point changes every projection.
func (s *Service) projectionsFrom(ctx context.Context, snap domain.Snapshot, published domain.Published) ([]*statisticsv1.ProjectionPublished, error) {
	snaps, err := s.store.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(snaps) > 0 && snaps[0].ReferenceDate > snap.ReferenceDate {
		return nil, nil
	}
	changes, err := s.store.Changes(ctx, nil)
	if err != nil {
		return nil, err
	}
	var out []*statisticsv1.ProjectionPublished
	seen := map[string]bool{}
	for _, c := range changes { // by effective date
		if c.EffectiveDate > snap.ReferenceDate && !seen[c.EffectiveDate] {
			seen[c.EffectiveDate] = true
			out = append(out, projectionEvent(snap, published, changes, c.EffectiveDate, snap.ImportTime))
		}
	}
	return out, nil
}

// projectionEvent is the projection of the snapshot's published figures to
// date. Events carry published figures, never exact ones: the services that
// receive them show them to county boards, organisers and the public.
func projectionEvent(snap domain.Snapshot, published domain.Published, changes []domain.PlannedChange, date string, now time.Time) *statisticsv1.ProjectionPublished {
	rows, _ := domain.Project(published.Figures(nil), changes, snap.ReferenceDate, date)
	ev := &statisticsv1.ProjectionPublished{Snapshot: snap.Name(), ProjectionDate: date, PublishTime: timestamppb.New(now), Perturbed: true}
	for _, r := range rows {
		if r.Projected > 0 {
			ev.KommunTotals = append(ev.KommunTotals, &statisticsv1.KommunTotal{KommunCode: r.KommunCode, LanCode: r.LanCode, Adults: r.Projected})
		}
	}
	return ev
}

func kommunTotalsToProto(totals []domain.KommunTotal) []*statisticsv1.KommunTotal {
	out := make([]*statisticsv1.KommunTotal, len(totals))
	for i, t := range totals {
		out[i] = &statisticsv1.KommunTotal{KommunCode: t.KommunCode, LanCode: t.LanCode, Adults: t.Adults}
	}
	return out
}
