package statistics

import (
	"context"
	"errors"

	"google.golang.org/protobuf/types/known/timestamppb"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/statistics/internal/ckm"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
	"github.com/tia-platform/tia/services/statistics/internal/store"
)

// badName is the description of a snapshot name that is not a real date.
const badName = "must be snapshots/{YYYY-MM-DD} with a real date"

// referenceDate is the date a snapshot name names, or a violation of field
// (as the client wrote it) when it is not snapshots/{a real date}.
func referenceDate(field, name string) (string, error) {
	date, ok := domain.ParseName(name)
	if !ok {
		return "", badrequest.Field(field, badName)
	}
	return date, nil
}

// admitDate admits a caller in one of roles (none: any signed-in caller),
// then reads the reference date of the snapshot name in field: the first
// step of the handlers on one snapshot, in that order (who asks is answered
// before what is asked).
func admitDate(ctx context.Context, field, name string, roles ...auth.Role) (string, error) {
	if _, err := auth.Require(ctx, roles...); err != nil {
		return "", err
	}
	return referenceDate(field, name)
}

// ImportSnapshot stores the cells of one reference date, replacing whatever
// was imported for that date before. Only Migrationsverket keeps the figures.
func (s *Service) ImportSnapshot(ctx context.Context, req *statisticsv1.ImportSnapshotRequest) (*statisticsv1.Snapshot, error) {
	date, err := admitDate(ctx, "name", req.GetName(), auth.RoleMigrationsverket)
	if err != nil {
		return nil, err
	}
	cells := make([]domain.Cell, len(req.GetCells()))
	for i, c := range req.GetCells() {
		cells[i] = cellFromProto(c)
	}
	if _, err := domain.NewSnapshot(date, cells); err != nil {
		return nil, err
	}
	grid, keys, src := domain.NewGrid(), domain.NewKeys(), ckm.NewKeySource()
	for _, c := range cells {
		grid.Add(c)
	}
	for i := range cells {
		// The people of a pre-aggregated cell are not known one by one;
		// their keys' sum is uniform all the same, so one draw stands for it.
		cells[i].Key = src.RandomKey(cells[i].Count)
		keys.SetKey(cells[i])
	}
	change, err := s.newGridChange(ctx, date, grid, keys)
	if err != nil {
		return nil, err
	}
	applied := false
	out, err := uow.Once(ctx, s.units, uow.Request{Method: statisticsv1.StatisticsService_ImportSnapshot_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*statisticsv1.Snapshot, error) {
			if _, err := change.apply(ctx, w); err != nil {
				return nil, err
			}
			applied = true
			return snapshotToProto(change.snap, false), nil
		})
	if err != nil {
		return nil, err
	}
	if applied {
		s.remember(change.snap, grid, keys)
	}
	return out, nil
}

// GetSnapshot returns a snapshot's summary to any signed-in caller.
func (s *Service) GetSnapshot(ctx context.Context, req *statisticsv1.GetSnapshotRequest) (*statisticsv1.Snapshot, error) {
	date, err := admitDate(ctx, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	snap, err := s.get(ctx, req.GetName(), date)
	if err != nil {
		return nil, err
	}
	return s.snapshotFor(ctx, snap)
}

// snapshotFor is a snapshot's summary as the caller may see it: for
// everyone but Migrationsverket the total is the published national figure
// and the cell count that of the cells published as other than 0, the same
// as any query gives.
func (s *Service) snapshotFor(ctx context.Context, snap domain.Snapshot) (*statisticsv1.Snapshot, error) {
	if !protected(ctx) {
		return snapshotToProto(snap, false), nil
	}
	l, err := s.gridOf(ctx, snap)
	if err != nil {
		return nil, err
	}
	snap.Total, snap.CellCount = l.published.Nation(), l.published.NonZeroCells()
	return snapshotToProto(snap, true), nil
}

// QuerySnapshot sums a snapshot's cells, filtered and grouped, for any
// signed-in caller.
func (s *Service) QuerySnapshot(ctx context.Context, req *statisticsv1.QuerySnapshotRequest) (*statisticsv1.QuerySnapshotResponse, error) {
	date, err := admitDate(ctx, "snapshot", req.GetSnapshot())
	if err != nil {
		return nil, err
	}
	q := domain.Query{ReferenceDate: date, LanCodes: req.GetLanCodes(), KommunCodes: req.GetKommunCodes()}
	for _, d := range req.GetGroupBy() {
		q.GroupBy = append(q.GroupBy, dimensionFromProto[d])
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	l, err := s.grid(ctx, req.GetSnapshot(), date)
	if err != nil {
		return nil, err
	}
	qu := newQuestion(ctx, q)
	t := s.table(l, qu)
	resp := &statisticsv1.QuerySnapshotResponse{
		Rows: rowsToProto(t.Rows, ""), Total: t.Total, Subtotals: rowsToProto(t.Subtotals, ""), Perturbed: qu.protect,
	}
	if resp.Document, err = document(ctx, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *Service) get(ctx context.Context, name, date string) (domain.Snapshot, error) {
	snap, err := s.store.Get(ctx, date)
	if errors.Is(err, store.ErrNotFound) {
		return domain.Snapshot{}, apierr.NotFound(name)
	}
	return snap, err
}

var housingToProto = map[domain.HousingType]statisticsv1.HousingType{
	domain.HousingABE:    statisticsv1.HousingType_HOUSING_TYPE_ABE,
	domain.HousingEBO:    statisticsv1.HousingType_HOUSING_TYPE_EBO,
	domain.HousingOvrigt: statisticsv1.HousingType_HOUSING_TYPE_OVRIGT,
}

var sexToProto = map[domain.Sex]statisticsv1.Sex{
	domain.SexKvinna: statisticsv1.Sex_SEX_KVINNA,
	domain.SexMan:    statisticsv1.Sex_SEX_MAN,
}

var ageBandToProto = map[domain.AgeBand]statisticsv1.AgeBand{
	domain.Age18to24: statisticsv1.AgeBand_AGE_BAND_18_24,
	domain.Age25to34: statisticsv1.AgeBand_AGE_BAND_25_34,
	domain.Age35to44: statisticsv1.AgeBand_AGE_BAND_35_44,
	domain.Age45to54: statisticsv1.AgeBand_AGE_BAND_45_54,
	domain.Age55to64: statisticsv1.AgeBand_AGE_BAND_55_64,
	domain.Age65Plus: statisticsv1.AgeBand_AGE_BAND_65_PLUS,
}

// The reverse maps give the zero value ("") for UNSPECIFIED and for numbers
// the proto does not define, which the domain rejects by field.
var (
	housingFromProto = invert(housingToProto)
	sexFromProto     = invert(sexToProto)
	ageBandFromProto = invert(ageBandToProto)
)

var dimensionFromProto = map[statisticsv1.Dimension]domain.Dimension{
	statisticsv1.Dimension_DIMENSION_LAN:          domain.DimLan,
	statisticsv1.Dimension_DIMENSION_KOMMUN:       domain.DimKommun,
	statisticsv1.Dimension_DIMENSION_HOUSING_TYPE: domain.DimHousing,
	statisticsv1.Dimension_DIMENSION_SEX:          domain.DimSex,
	statisticsv1.Dimension_DIMENSION_AGE_BAND:     domain.DimAgeBand,
}

func invert[K, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

func cellFromProto(c *statisticsv1.Cell) domain.Cell {
	return domain.Cell{
		KommunCode: c.GetKommunCode(), Housing: housingFromProto[c.GetHousingType()],
		Sex: sexFromProto[c.GetSex()], AgeBand: ageBandFromProto[c.GetAgeBand()], Count: c.GetCount(),
	}
}

func snapshotToProto(s domain.Snapshot, perturbed bool) *statisticsv1.Snapshot {
	return &statisticsv1.Snapshot{
		Name: s.Name(), CellCount: s.CellCount, Total: s.Total, ImportTime: timestamppb.New(s.ImportTime), Perturbed: perturbed,
	}
}
