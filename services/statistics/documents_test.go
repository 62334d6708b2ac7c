package statistics_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strconv"
	"testing"

	"google.golang.org/grpc/metadata"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
)

// accepting is ctx as a call that accepts these media types arrives: from a
// gRPC client (key "accept") or from the REST edge ("grpcgateway-accept").
func accepting(ctx context.Context, key, accept string) context.Context {
	return metadata.NewIncomingContext(ctx, metadata.Pairs(key, accept))
}

// TestDocuments: the service renders its own spreadsheet when the call asks
// for text/csv, with the same figures as the response's rows (published
// ones for a county board); otherwise the response carries none.
func TestDocuments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, domain.DefaultLimits)
		e.importCells(t, "snapshots/2026-09-30", cell("0180", ebo, man, age25, 110), cell("0184", ebo, man, age25, 9), cell("1280", abe, kvinna, age18, 40))
		e.importCells(t, "snapshots/2026-10-31", cell("0180", ebo, man, age25, 120), cell("0184", ebo, man, age25, 10), cell("2584", abe, kvinna, age18, 7))
		q := &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/2026-10-31", LanCodes: []string{"01"}, GroupBy: []statisticsv1.Dimension{dimKommun}}

		for _, key := range []string{"accept", "grpcgateway-accept"} {
			resp, err := e.svc.QuerySnapshot(accepting(as(countyBoard), key, "text/csv"), q)
			if err != nil {
				t.Fatal(err)
			}
			doc := resp.GetDocument()
			if doc.GetContentType() != "text/csv; charset=utf-8" {
				t.Fatalf("%s: document %v", key, doc)
			}
			recs, err := csv.NewReader(bytes.NewReader(doc.GetData())).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recs[0], []string{"typ", "länskod", "län", "kommunkod", "kommun", "antal"}) || len(recs) != 1+len(resp.GetRows())+len(resp.GetSubtotals())+1 {
				t.Fatalf("%s: %q for %d rows", key, recs, len(resp.GetRows()))
			}
			for i, r := range resp.GetRows() {
				if line := recs[1+i]; line[0] != "rad" || line[3] != r.GetKommunCode() || line[5] != strconv.FormatInt(r.GetCount(), 10) {
					t.Fatalf("%s: line %q, row %v", key, line, r)
				}
			}
			if last := recs[len(recs)-1]; last[0] != "summa" || last[5] != strconv.FormatInt(resp.GetTotal(), 10) || !resp.GetPerturbed() {
				t.Fatalf("%s: last line %q, total %d", key, last, resp.GetTotal())
			}
		}

		// JSON callers get no document.
		for _, ctx := range []context.Context{as(countyBoard), accepting(as(countyBoard), "grpcgateway-accept", "application/json")} {
			resp, err := e.svc.QuerySnapshot(ctx, q)
			if err != nil || resp.GetDocument() != nil {
				t.Fatalf("document for a JSON caller: %v, %v", resp.GetDocument(), err)
			}
		}

		// Every table of the service renders its own.
		csvCtx := accepting(as(migrationsverket), "accept", "text/csv")
		if _, err := e.svc.CreatePlannedChange(as(migrationsverket), &statisticsv1.CreatePlannedChangeRequest{PlannedChange: &statisticsv1.PlannedChange{
			KommunCode: "0180", HousingType: abe, EffectiveDate: "2026-12-01", AdultsDelta: 300, Description: "Nytt anläggningsboende"}}); err != nil {
			t.Fatal(err)
		}
		headers := map[string]func() (*statisticsv1.Document, error){
			"referensdatum": func() (*statisticsv1.Document, error) {
				r, err := e.svc.QueryTimeSeries(csvCtx, &statisticsv1.QueryTimeSeriesRequest{GroupBy: []statisticsv1.Dimension{dimLan}})
				return r.GetDocument(), err
			},
			"antal_från": func() (*statisticsv1.Document, error) {
				r, err := e.svc.CompareSnapshots(csvCtx, &statisticsv1.CompareSnapshotsRequest{FromSnapshot: "snapshots/2026-09-30", ToSnapshot: "snapshots/2026-10-31"})
				return r.GetDocument(), err
			},
			"beräknat_antal": func() (*statisticsv1.Document, error) {
				r, err := e.svc.GetProjection(csvCtx, &statisticsv1.GetProjectionRequest{ProjectionDate: "2026-12-31"})
				return r.GetDocument(), err
			},
			"importerad": func() (*statisticsv1.Document, error) {
				r, err := e.svc.ListSnapshots(csvCtx, &statisticsv1.ListSnapshotsRequest{})
				return r.GetDocument(), err
			},
			"förändring_vuxna": func() (*statisticsv1.Document, error) {
				r, err := e.svc.ListPlannedChanges(csvCtx, &statisticsv1.ListPlannedChangesRequest{})
				return r.GetDocument(), err
			},
		}
		for column, get := range headers {
			doc, err := get()
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(bytes.NewReader(doc.GetData())).ReadAll()
			if err != nil || len(recs) < 2 || !slices.Contains(recs[0], column) {
				t.Fatalf("no column %s: %q (%v)", column, recs, err)
			}
		}
	})
}
