package statistics_test

import (
	"testing"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/statistics"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
)

// TestRequestIDs: a change sent again with the same AIP-155 request id is
// applied once and answered with the first result; without one, each call
// is a change of its own.
func TestRequestIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, domain.DefaultLimits)
		imp := &statisticsv1.ImportSnapshotRequest{Name: "snapshots/2026-10-31", Cells: cells(), RequestId: "import-1"}
		first, again := twice(t, e.svc.ImportSnapshot, migrationsverket, imp)
		if !again.GetImportTime().AsTime().Equal(first.GetImportTime().AsTime()) || again.GetTotal() != first.GetTotal() {
			t.Fatalf("repeated import = %v, first %v", again, first)
		}
		if n := len(e.outbox(t, statistics.SubjectSnapshotPublished)); n != 1 {
			t.Fatalf("%d snapshot events after a repeated import, want 1", n)
		}

		create := &statisticsv1.CreatePlannedChangeRequest{RequestId: "change-1", PlannedChange: &statisticsv1.PlannedChange{
			KommunCode: "0180", HousingType: abe, EffectiveDate: "2026-12-01", AdultsDelta: 300, Description: "Nytt anläggningsboende"}}
		pc, repeat := twice(t, e.svc.CreatePlannedChange, migrationsverket, create)
		if repeat.GetName() != pc.GetName() || !repeat.GetCreateTime().AsTime().Equal(pc.GetCreateTime().AsTime()) {
			t.Fatalf("repeated create = %v, first %v", repeat, pc)
		}
		list, err := e.svc.ListPlannedChanges(as(countyBoard), &statisticsv1.ListPlannedChangesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetPlannedChanges()) != 1 || len(e.outbox(t, statistics.SubjectProjectionPublished)) != 1 {
			t.Fatalf("after a repeated create: %d changes, %d projection events; want 1 and 1",
				len(list.GetPlannedChanges()), len(e.outbox(t, statistics.SubjectProjectionPublished)))
		}

		// Without a request id the same body is another change.
		create.RequestId = ""
		for range 2 {
			if _, err := e.svc.CreatePlannedChange(as(migrationsverket), create); err != nil {
				t.Fatal(err)
			}
		}
		if list, err = e.svc.ListPlannedChanges(as(countyBoard), &statisticsv1.ListPlannedChangesRequest{}); err != nil || len(list.GetPlannedChanges()) != 3 {
			t.Fatalf("%d changes, want 3 (%v)", len(list.GetPlannedChanges()), err)
		}
	})
}

// TestKeysDrawnOnce: cells stored before cell keys existed get a key each
// the first time their snapshot is read, in a unit of work, and keep it:
// every later reader gets the same published figures.
func TestKeysDrawnOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, domain.DefaultLimits)
		if _, err := e.svc.ImportSnapshot(as(migrationsverket), &statisticsv1.ImportSnapshotRequest{Name: "snapshots/2026-10-31", Cells: cells()}); err != nil {
			t.Fatal(err)
		}
		// As a database migrated from before cell keys: no keys, and a
		// service that has not read the snapshot yet.
		if _, err := e.db.Exec("UPDATE snapshot_cells SET cell_key = NULL"); err != nil {
			t.Fatal(err)
		}
		fresh := newEnvOn(t, e)
		q := &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/2026-10-31", GroupBy: []statisticsv1.Dimension{dimKommun}}
		first, err := fresh.svc.QuerySnapshot(as(countyBoard), q)
		if err != nil {
			t.Fatal(err)
		}
		var missing int
		if err := e.db.Get(&missing, "SELECT COUNT(*) FROM snapshot_cells WHERE cell_key IS NULL"); err != nil || missing != 0 {
			t.Fatalf("%d cells without a key after the first read (%v)", missing, err)
		}
		// Another replica reads the keys drawn, not keys of its own.
		other, err := newEnvOn(t, e).svc.QuerySnapshot(as(countyBoard), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(other.GetRows()) != len(first.GetRows()) || other.GetTotal() != first.GetTotal() {
			t.Fatalf("another replica publishes %v, the first %v", other, first)
		}
		for i, r := range other.GetRows() {
			if r.GetCount() != first.GetRows()[i].GetCount() {
				t.Fatalf("row %d: %v, the first replica %v", i, r, first.GetRows()[i])
			}
		}
	})
}
