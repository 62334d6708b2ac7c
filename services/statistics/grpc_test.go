package statistics_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/app/apptest"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/statistics"
)

var (
	migrationsverket = auth.Principal{Subject: "mv-import", Role: auth.RoleMigrationsverket}
	countyBoard      = auth.Principal{Subject: "lst-stockholm", Role: auth.RoleCountyBoard, Lan: "01"}
	organiser        = auth.Principal{Subject: "abf", Role: auth.RoleOrganiser, Org: "8020016281"}
	// folkbildningsradet and asylumSeeker read figures as the others do.
	folkbildningsradet = auth.Principal{Subject: "fbr", Role: auth.RoleFolkbildningsradet}
	asylumSeeker       = auth.Principal{Subject: "as-1", Role: auth.RoleAsylumSeeker}
)

func as(p auth.Principal) context.Context { return auth.WithPrincipal(context.Background(), p) }

// newService builds the service as a host would, on a fresh database.
func newService(t *testing.T, dsn string) statisticsv1.StatisticsServiceServer {
	t.Helper()
	svc, err := statistics.Component.New(apptest.HostDeps(t, statistics.Component, dsn, apptest.Key))
	if err != nil {
		t.Fatal(err)
	}
	return svc.(statisticsv1.StatisticsServiceServer)
}

func cell(kommun string, h statisticsv1.HousingType, s statisticsv1.Sex, a statisticsv1.AgeBand, n int64) *statisticsv1.Cell {
	return &statisticsv1.Cell{KommunCode: kommun, HousingType: h, Sex: s, AgeBand: a, Count: n}
}

func cells() []*statisticsv1.Cell {
	return []*statisticsv1.Cell{
		cell("0180", statisticsv1.HousingType_HOUSING_TYPE_ABE, statisticsv1.Sex_SEX_KVINNA, statisticsv1.AgeBand_AGE_BAND_18_24, 10),
		cell("0180", statisticsv1.HousingType_HOUSING_TYPE_EBO, statisticsv1.Sex_SEX_MAN, statisticsv1.AgeBand_AGE_BAND_25_34, 20),
		cell("0184", statisticsv1.HousingType_HOUSING_TYPE_EBO, statisticsv1.Sex_SEX_MAN, statisticsv1.AgeBand_AGE_BAND_25_34, 5),
		cell("2584", statisticsv1.HousingType_HOUSING_TYPE_OVRIGT, statisticsv1.Sex_SEX_KVINNA, statisticsv1.AgeBand_AGE_BAND_65_PLUS, 7),
	}
}

// call is a table's call of method f with req in ctx, keeping the error.
func call[Req, Resp any](f func(context.Context, Req) (Resp, error), ctx context.Context, req Req) func() error {
	return func() error {
		_, err := f(ctx, req)
		return err
	}
}

// twice sends req to f as p, then again as a client repeating a change
// does, and returns both answers.
func twice[Req, Resp any](t *testing.T, f func(context.Context, Req) (Resp, error), p auth.Principal, req Req) (first, again Resp) {
	t.Helper()
	var err error
	if first, err = f(as(p), req); err != nil {
		t.Fatal(err)
	}
	if again, err = f(as(p), req); err != nil {
		t.Fatal(err)
	}
	return first, again
}

// code is the status code of err as the host sends it: through the
// service's one error table (Component.Errors).
func code(err error) codes.Code {
	return status.Code(apierr.Table{Domain: "statistics.tia.se", Rules: statistics.Errors}.Status(context.Background(), err))
}

func TestService(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		svc := newService(t, dsn)
		const name = "snapshots/2026-03-31"

		// Import, then read back as a county board.
		before := time.Now()
		snap, err := svc.ImportSnapshot(as(migrationsverket), &statisticsv1.ImportSnapshotRequest{Name: name, Cells: cells()})
		if err != nil {
			t.Fatal(err)
		}
		if snap.GetName() != name || snap.GetCellCount() != 4 || snap.GetTotal() != 42 || snap.GetImportTime().AsTime().Before(before.Add(-time.Second)) {
			t.Fatalf("ImportSnapshot = %v", snap)
		}
		got, err := svc.GetSnapshot(as(migrationsverket), &statisticsv1.GetSnapshotRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetTotal() != 42 || got.GetPerturbed() || !got.GetImportTime().AsTime().Equal(snap.GetImportTime().AsTime()) {
			t.Fatalf("GetSnapshot = %v, want %v", got, snap)
		}
		// A county board gets the published national figure, the same as
		// its grand-total query gives.
		board, err := svc.GetSnapshot(as(countyBoard), &statisticsv1.GetSnapshotRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		boardGrand, err := svc.QuerySnapshot(as(countyBoard), &statisticsv1.QuerySnapshotRequest{Snapshot: name})
		if err != nil {
			t.Fatal(err)
		}
		if !board.GetPerturbed() || board.GetTotal() != boardGrand.GetTotal() || board.GetTotal() < 39 || board.GetTotal() > 45 {
			t.Fatalf("county board's GetSnapshot = %v, grand total %d", board, boardGrand.GetTotal())
		}

		resp, err := svc.QuerySnapshot(as(migrationsverket), &statisticsv1.QuerySnapshotRequest{
			Snapshot: name, LanCodes: []string{"01"},
			GroupBy: []statisticsv1.Dimension{statisticsv1.Dimension_DIMENSION_KOMMUN, statisticsv1.Dimension_DIMENSION_HOUSING_TYPE},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []*statisticsv1.QueryRow{
			{KommunCode: "0180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_ABE, Count: 10},
			{KommunCode: "0180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_EBO, Count: 20},
			{KommunCode: "0184", HousingType: statisticsv1.HousingType_HOUSING_TYPE_EBO, Count: 5},
		}
		if resp.GetTotal() != 35 || len(resp.GetRows()) != len(want) || resp.GetPerturbed() {
			t.Fatalf("QuerySnapshot = %v", resp)
		}
		for i, r := range resp.GetRows() {
			w := want[i]
			if r.GetKommunCode() != w.GetKommunCode() || r.GetHousingType() != w.GetHousingType() || r.GetCount() != w.GetCount() ||
				r.GetLanCode() != "" || r.GetSex() != statisticsv1.Sex_SEX_UNSPECIFIED || r.GetAgeBand() != statisticsv1.AgeBand_AGE_BAND_UNSPECIFIED {
				t.Fatalf("row %d = %v, want %v", i, r, w)
			}
		}
		// An organiser gets the same rows, each within ±3 and never 1 or 2.
		org, err := svc.QuerySnapshot(as(organiser), &statisticsv1.QuerySnapshotRequest{
			Snapshot: name, LanCodes: []string{"01"},
			GroupBy: []statisticsv1.Dimension{statisticsv1.Dimension_DIMENSION_KOMMUN, statisticsv1.Dimension_DIMENSION_HOUSING_TYPE},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !org.GetPerturbed() || len(org.GetRows()) != len(want) || org.GetTotal() < 32 || org.GetTotal() > 38 {
			t.Fatalf("organiser's QuerySnapshot = %v", org)
		}
		for i, r := range org.GetRows() {
			if w := want[i]; r.GetKommunCode() != w.GetKommunCode() || r.GetHousingType() != w.GetHousingType() ||
				r.GetCount() < w.GetCount()-3 || r.GetCount() > w.GetCount()+3 || r.GetCount() == 1 || r.GetCount() == 2 {
				t.Fatalf("organiser's row %d = %v, true %v", i, r, w)
			}
		}
		bySex, err := svc.QuerySnapshot(as(migrationsverket), &statisticsv1.QuerySnapshotRequest{
			Snapshot: name, GroupBy: []statisticsv1.Dimension{statisticsv1.Dimension_DIMENSION_SEX, statisticsv1.Dimension_DIMENSION_AGE_BAND},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(bySex.GetRows()) != 3 || bySex.GetRows()[0].GetSex() != statisticsv1.Sex_SEX_KVINNA ||
			bySex.GetRows()[1].GetAgeBand() != statisticsv1.AgeBand_AGE_BAND_65_PLUS || bySex.GetTotal() != 42 {
			t.Fatalf("by sex and age = %v", bySex)
		}
		grand, err := svc.QuerySnapshot(as(migrationsverket), &statisticsv1.QuerySnapshotRequest{Snapshot: name})
		if err != nil || len(grand.GetRows()) != 1 || grand.GetRows()[0].GetCount() != 42 || grand.GetTotal() != 42 {
			t.Fatalf("grand total = %v, %v", grand, err)
		}

		// A rejected re-import changes nothing.
		bad := cells()
		bad[2].KommunCode = "9999"
		if _, err := svc.ImportSnapshot(as(migrationsverket), &statisticsv1.ImportSnapshotRequest{Name: name, Cells: bad}); code(err) != codes.InvalidArgument {
			t.Fatalf("bad re-import: %v", err)
		}
		if got, _ := svc.GetSnapshot(as(migrationsverket), &statisticsv1.GetSnapshotRequest{Name: name}); got.GetTotal() != 42 {
			t.Fatalf("after bad re-import = %v", got)
		}
	})
}

func TestAccess(t *testing.T) {
	svc := newService(t, dbtest.NewSQLite(t))
	const name = "snapshots/2026-03-31"
	if _, err := svc.ImportSnapshot(as(migrationsverket), &statisticsv1.ImportSnapshotRequest{Name: name, Cells: cells()}); err != nil {
		t.Fatal(err)
	}
	anonymous := context.Background()
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"county board imports", call(svc.ImportSnapshot, as(countyBoard), &statisticsv1.ImportSnapshotRequest{Name: name, Cells: cells()}), codes.PermissionDenied},
		{"organiser imports", call(svc.ImportSnapshot, as(organiser), &statisticsv1.ImportSnapshotRequest{Name: name, Cells: cells()}), codes.PermissionDenied},
		{"anonymous imports", call(svc.ImportSnapshot, anonymous, &statisticsv1.ImportSnapshotRequest{Name: name, Cells: cells()}), codes.Unauthenticated},
		{"anonymous gets", call(svc.GetSnapshot, anonymous, &statisticsv1.GetSnapshotRequest{Name: name}), codes.Unauthenticated},
		{"anonymous queries", call(svc.QuerySnapshot, anonymous, &statisticsv1.QuerySnapshotRequest{Snapshot: name}), codes.Unauthenticated},
		{"get unknown date", call(svc.GetSnapshot, as(countyBoard), &statisticsv1.GetSnapshotRequest{Name: "snapshots/2026-04-30"}), codes.NotFound},
		{"query unknown date", call(svc.QuerySnapshot, as(countyBoard), &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/2026-04-30"}), codes.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(tt.call()); got != tt.want {
				t.Fatalf("code = %v, want %v", got, tt.want)
			}
		})
	}
	// The refused import by a county board did not touch the snapshot.
	if got, _ := svc.GetSnapshot(as(migrationsverket), &statisticsv1.GetSnapshotRequest{Name: name}); got.GetTotal() != 42 {
		t.Fatalf("snapshot changed: %v", got)
	}
}

func TestInvalidArgument(t *testing.T) {
	svc := newService(t, dbtest.NewSQLite(t))
	if _, err := svc.ImportSnapshot(as(migrationsverket), &statisticsv1.ImportSnapshotRequest{Name: "snapshots/2026-03-31", Cells: cells()}); err != nil {
		t.Fatal(err)
	}
	withCells := func(change func([]*statisticsv1.Cell) []*statisticsv1.Cell) func() error {
		return call(svc.ImportSnapshot, as(migrationsverket), &statisticsv1.ImportSnapshotRequest{Name: "snapshots/2026-03-31", Cells: change(cells())})
	}
	query := func(q *statisticsv1.QuerySnapshotRequest) func() error {
		return func() error {
			if q.Snapshot == "" {
				q.Snapshot = "snapshots/2026-03-31"
			}
			_, err := svc.QuerySnapshot(as(countyBoard), q)
			return err
		}
	}
	tests := []struct {
		name   string
		call   func() error
		fields []string
	}{
		{"import date not real", call(svc.ImportSnapshot, as(migrationsverket), &statisticsv1.ImportSnapshotRequest{Name: "snapshots/2026-02-30", Cells: cells()}), []string{"name"}},
		{"import no cells", withCells(func([]*statisticsv1.Cell) []*statisticsv1.Cell { return nil }), []string{"cells"}},
		{"unknown kommun", withCells(func(c []*statisticsv1.Cell) []*statisticsv1.Cell { c[3].KommunCode = "0000"; return c }), []string{"cells[3].kommun_code"}},
		{"housing unset", withCells(func(c []*statisticsv1.Cell) []*statisticsv1.Cell { c[0].HousingType = 0; return c }), []string{"cells[0].housing_type"}},
		{"sex undefined", withCells(func(c []*statisticsv1.Cell) []*statisticsv1.Cell { c[1].Sex = 9; return c }), []string{"cells[1].sex"}},
		{"age band unset", withCells(func(c []*statisticsv1.Cell) []*statisticsv1.Cell { c[2].AgeBand = 0; return c }), []string{"cells[2].age_band"}},
		{"negative count", withCells(func(c []*statisticsv1.Cell) []*statisticsv1.Cell { c[1].Count = -2; return c }), []string{"cells[1].count"}},
		{"duplicate cell", withCells(func(c []*statisticsv1.Cell) []*statisticsv1.Cell { return append(c, cells()[1]) }), []string{"cells[4]"}},
		{"counts that would overflow", withCells(func(c []*statisticsv1.Cell) []*statisticsv1.Cell {
			c[0].Count, c[1].Count = 9223372036854775807, 9223372036854775807
			return c
		}), []string{"cells[0].count", "cells[1].count"}},
		{"only zero counts", withCells(func(c []*statisticsv1.Cell) []*statisticsv1.Cell {
			for _, x := range c {
				x.Count = 0
			}
			return c
		}), []string{"cells"}},
		{"get bad name", call(svc.GetSnapshot, as(countyBoard), &statisticsv1.GetSnapshotRequest{Name: "snapshots/last"}), []string{"name"}},
		{"query bad snapshot", query(&statisticsv1.QuerySnapshotRequest{Snapshot: "2026-03-31"}), []string{"snapshot"}},
		{"query unknown län", query(&statisticsv1.QuerySnapshotRequest{LanCodes: []string{"01", "99"}}), []string{"lan_codes[1]"}},
		{"query unknown kommun", query(&statisticsv1.QuerySnapshotRequest{KommunCodes: []string{"1234"}}), []string{"kommun_codes[0]"}},
		{"query kommun outside the län filter", query(&statisticsv1.QuerySnapshotRequest{LanCodes: []string{"01"}, KommunCodes: []string{"0180", "1280"}}), []string{"kommun_codes[1]"}},
		{"query impossible date", query(&statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/2026-02-30"}), []string{"snapshot"}},
		{"time series impossible dates", call(svc.QueryTimeSeries, as(countyBoard), &statisticsv1.QueryTimeSeriesRequest{FromDate: "2026-02-30", ToDate: "2026-13-01"}), []string{"from_date", "to_date"}},
		{"time series unknown län", call(svc.QueryTimeSeries, as(countyBoard), &statisticsv1.QueryTimeSeriesRequest{LanCodes: []string{"99"}}), []string{"lan_codes[0]"}},
		{"time series unknown kommun", call(svc.QueryTimeSeries, as(countyBoard), &statisticsv1.QueryTimeSeriesRequest{KommunCodes: []string{"0101"}}), []string{"kommun_codes[0]"}},
		{"compare impossible date", call(svc.CompareSnapshots, as(countyBoard), &statisticsv1.CompareSnapshotsRequest{FromSnapshot: "snapshots/2026-02-29", ToSnapshot: "snapshots/2026-03-31"}), []string{"from_snapshot"}},
		{"compare unknown län", call(svc.CompareSnapshots, as(countyBoard), &statisticsv1.CompareSnapshotsRequest{FromSnapshot: "snapshots/2026-03-31", ToSnapshot: "snapshots/2026-03-31", LanCodes: []string{"26"}}), []string{"lan_codes[0]"}},
		{"projection impossible date", call(svc.GetProjection, as(countyBoard), &statisticsv1.GetProjectionRequest{ProjectionDate: "2027-04-31"}), []string{"projection_date"}},
		{"projection unknown län", call(svc.GetProjection, as(countyBoard), &statisticsv1.GetProjectionRequest{ProjectionDate: "2027-04-30", LanCodes: []string{"00"}}), []string{"lan_codes[0]"}},
		{"planned changes unknown län", call(svc.ListPlannedChanges, as(countyBoard), &statisticsv1.ListPlannedChangesRequest{LanCodes: []string{"02"}}), []string{"lan_codes[0]"}},
		{"planned change impossible date", call(svc.CreatePlannedChange, as(migrationsverket), &statisticsv1.CreatePlannedChangeRequest{PlannedChange: &statisticsv1.PlannedChange{
			KommunCode: "0180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_ABE, EffectiveDate: "2027-02-29", AdultsDelta: 10}}), []string{"planned_change.effective_date"}},
		{"query unset dimension", query(&statisticsv1.QuerySnapshotRequest{GroupBy: []statisticsv1.Dimension{statisticsv1.Dimension_DIMENSION_SEX, 0}}), []string{"group_by[1]"}},
		{"query repeated dimension", query(&statisticsv1.QuerySnapshotRequest{GroupBy: []statisticsv1.Dimension{statisticsv1.Dimension_DIMENSION_SEX, statisticsv1.Dimension_DIMENSION_SEX}}), []string{"group_by[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := badrequest.Fields(tt.call()); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
}
