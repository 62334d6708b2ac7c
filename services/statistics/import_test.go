package statistics_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/app/apptest"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/statistics"
	"github.com/tia-platform/tia/services/statistics/generate"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
)

// fakeStream plays a client stream to the service: it hands out msgs, then
// end (io.EOF when nil).
type fakeStream[Req, Resp any] struct {
	grpc.ServerStream
	ctx  context.Context
	msgs []*Req
	end  error
	resp *Resp
}

func (f *fakeStream[Req, Resp]) Context() context.Context { return f.ctx }

func (f *fakeStream[Req, Resp]) Recv() (*Req, error) {
	if len(f.msgs) == 0 {
		if f.end != nil {
			return nil, f.end
		}
		return nil, io.EOF
	}
	m := f.msgs[0]
	f.msgs = f.msgs[1:]
	return m, nil
}

func (f *fakeStream[Req, Resp]) SendAndClose(r *Resp) error { f.resp = r; return nil }

type personStream = fakeStream[statisticsv1.ImportPersonsRequest, statisticsv1.ImportSummary]
type cellStream = fakeStream[statisticsv1.ImportCellsRequest, statisticsv1.ImportSummary]

func header(name string) *statisticsv1.ImportPersonsRequest {
	return &statisticsv1.ImportPersonsRequest{Kind: &statisticsv1.ImportPersonsRequest_Header{Header: &statisticsv1.ImportHeader{Snapshot: name}}}
}

// csvMsgs splits text into pieces of n bytes, cutting lines anywhere.
func csvMsgs(text string, n int) []*statisticsv1.ImportPersonsRequest {
	var out []*statisticsv1.ImportPersonsRequest
	for len(text) > 0 {
		k := min(n, len(text))
		out = append(out, &statisticsv1.ImportPersonsRequest{Kind: &statisticsv1.ImportPersonsRequest_CsvData{CsvData: []byte(text[:k])}})
		text = text[k:]
	}
	return out
}

func genCSV(t *testing.T, seed uint64, rows int, date string) string {
	return genCSVB(t, seed, rows, date)
}

func genCSVB(t testing.TB, seed uint64, rows int, date string) string {
	t.Helper()
	var b bytes.Buffer
	if err := generate.Write(&b, generate.Options{Seed: seed, Rows: rows, ReferenceDate: date}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

type env struct {
	svc *statistics.Service
	db  *sqlx.DB
}

func newEnv(t *testing.T, dsn string, l domain.Limits) env { return newEnvTB(t, dsn, l) }

func newEnvB(b *testing.B, dsn string) env { return newEnvTB(b, dsn, domain.DefaultLimits) }

// newEnvTB builds the service with limits l as a host would, on a fresh
// database at dsn.
func newEnvTB(t testing.TB, dsn string, l domain.Limits) env {
	t.Helper()
	deps := apptest.HostDeps(t, statistics.Component, dsn, apptest.Key)
	return env{svc: statistics.New(deps, l), db: deps.DB}
}

// newEnvOn is another instance of the service (a replica) on e's database.
func newEnvOn(t *testing.T, e env) env {
	t.Helper()
	return env{svc: statistics.New(app.Deps{DB: e.db, Units: uow.New(e.db, nil, nil)}, domain.DefaultLimits), db: e.db}
}

func (e env) importPersons(t *testing.T, msgs []*statisticsv1.ImportPersonsRequest, end error) (*statisticsv1.ImportSummary, error) {
	t.Helper()
	s := &personStream{ctx: as(migrationsverket), msgs: msgs, end: end}
	err := e.svc.ImportPersons(s)
	return s.resp, err
}

// outbox returns the payloads published on subject, oldest first.
func (e env) outbox(t *testing.T, subject string) [][]byte {
	t.Helper()
	var payloads [][]byte
	if err := e.db.Select(&payloads, e.db.Rebind("SELECT payload FROM outbox WHERE subject = ? ORDER BY id"), subject); err != nil {
		t.Fatal(err)
	}
	return payloads
}

// event decodes the i-th event on subject in the outbox into m, after
// checking that the outbox holds want of them.
func (e env) event(t *testing.T, subject string, want, i int, m proto.Message) {
	t.Helper()
	payloads := e.outbox(t, subject)
	if len(payloads) != want {
		t.Fatalf("%d %s events, want %d", len(payloads), subject, want)
	}
	if err := (events.Event{Payload: payloads[i]}).Decode(m); err != nil {
		t.Fatal(err)
	}
}

func TestImportPersons(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, domain.DefaultLimits)
		const name = "snapshots/2026-10-31"
		text := genCSV(t, 3, 5000, "2026-10-31")
		sum, err := e.importPersons(t, append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(text, 777)...), nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.GetRowsRead() != 5000 || sum.GetUnder_18()+sum.GetAdults() != 5000 || sum.GetUnder_18() == 0 || sum.GetReplaced() {
			t.Fatalf("summary = %v", sum)
		}
		// The same people through rows give the same snapshot.
		var rows []*statisticsv1.PersonRow
		housing := map[string]statisticsv1.HousingType{"ABE": 1, "EBO": 2, "ÖVRIGT": 3}
		sex := map[string]statisticsv1.Sex{"kvinna": 1, "man": 2}
		for _, line := range strings.Split(strings.TrimSpace(text), "\n")[1:] {
			f := strings.Split(line, ",")
			rows = append(rows, &statisticsv1.PersonRow{KommunCode: f[0], HousingType: housing[f[1]], Sex: sex[f[2]], DateOfBirth: f[3]})
		}
		batches := []*statisticsv1.ImportPersonsRequest{header(name)}
		for start := 0; start < len(rows); start += 1000 {
			batches = append(batches, &statisticsv1.ImportPersonsRequest{Kind: &statisticsv1.ImportPersonsRequest_Persons{
				Persons: &statisticsv1.PersonBatch{Rows: rows[start:min(start+1000, len(rows))]}}})
		}
		again, err := e.importPersons(t, batches, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !again.GetReplaced() || again.GetAdults() != sum.GetAdults() || again.GetSnapshot().GetCellCount() != sum.GetSnapshot().GetCellCount() {
			t.Fatalf("rows import = %v, CSV import = %v", again, sum)
		}

		// Each import published SnapshotPublished, with the kommun totals
		// as a county board reads them (published figures, never exact ones:
		// the registry shows them to everyone), each within ±3 of the truth.
		var ev statisticsv1.SnapshotPublished
		e.event(t, statistics.SubjectSnapshotPublished, 2, 1, &ev)
		byKommun := []statisticsv1.Dimension{dimKommun}
		exact, err := e.svc.QuerySnapshot(as(migrationsverket), &statisticsv1.QuerySnapshotRequest{Snapshot: name, GroupBy: byKommun})
		if err != nil {
			t.Fatal(err)
		}
		board, err := e.svc.QuerySnapshot(as(countyBoard), &statisticsv1.QuerySnapshotRequest{Snapshot: name, GroupBy: byKommun})
		if err != nil {
			t.Fatal(err)
		}
		truth, published := map[string]int64{}, map[string]int64{}
		for _, r := range exact.GetRows() {
			truth[r.GetKommunCode()] = r.GetCount()
		}
		for _, r := range board.GetRows() {
			published[r.GetKommunCode()] = r.GetCount()
		}
		for _, k := range ev.GetKommunTotals() {
			d := k.GetAdults() - truth[k.GetKommunCode()]
			if k.GetLanCode() != k.GetKommunCode()[:2] || k.GetAdults() < 3 || d < -3 || d > 3 || published[k.GetKommunCode()] != k.GetAdults() {
				t.Fatalf("kommun total %v: true %d, county board reads %d", k, truth[k.GetKommunCode()], published[k.GetKommunCode()])
			}
		}
		if ev.GetSnapshot() != name || ev.GetReferenceDate() != "2026-10-31" || !ev.GetPerturbed() || len(ev.GetKommunTotals()) != len(board.GetRows()) {
			t.Fatalf("event = %v (%d kommuner, county board reads %d)", ev.GetSnapshot(), len(ev.GetKommunTotals()), len(board.GetRows()))
		}
	})
}

// TestImportErrorsLeaveOldData: whatever goes wrong in an import, the
// previous snapshot stays exactly as it was and no event leaves.
func TestImportErrorsLeaveOldData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, domain.Limits{MaxBytes: 150_000, MaxRows: 10_000})
		const name = "snapshots/2026-10-31"
		good := genCSV(t, 1, 3000, "2026-10-31")
		first, err := e.importPersons(t, append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(good, 4096)...), nil)
		if err != nil {
			t.Fatal(err)
		}
		before, err := e.svc.QuerySnapshot(as(migrationsverket), &statisticsv1.QuerySnapshotRequest{Snapshot: name,
			GroupBy: []statisticsv1.Dimension{statisticsv1.Dimension_DIMENSION_KOMMUN, statisticsv1.Dimension_DIMENSION_AGE_BAND}})
		if err != nil {
			t.Fatal(err)
		}
		other := genCSV(t, 2, 4000, "2026-10-31")
		big := genCSV(t, 5, 7000, "2026-10-31")
		bigLine := fmt.Sprintf("line %d", strings.Count(big[:150_000], "\n")+1)
		lines := strings.SplitAfter(other, "\n")
		withLine := func(n int, line string) string {
			l := slices.Clone(lines)
			l[n-1] = line + "\n"
			return strings.Join(l, "")
		}
		tests := []struct {
			name   string
			msgs   []*statisticsv1.ImportPersonsRequest
			end    error
			code   codes.Code
			fields []string
		}{
			{name: "client goes away mid-stream", msgs: append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(other, 4096)[:10]...),
				end: status.Error(codes.Canceled, "context canceled"), code: codes.Canceled},
			{name: "bad line near the end", msgs: append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(withLine(3990, "0180,ABE,kvinna,1990-13-01"), 4096)...),
				code: codes.InvalidArgument, fields: []string{"line 3990, column födelsedatum"}},
			{name: "unknown kommun", msgs: append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(withLine(17, "9999,ABE,kvinna,1990-01-01"), 4096)...),
				code: codes.InvalidArgument, fields: []string{"line 17, column kommunkod"}},
			{name: "truncated last line", msgs: append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(strings.TrimSuffix(other, "\n")[:len(other)-12], 4096)...),
				code: codes.InvalidArgument, fields: []string{"line 4001, column födelsedatum"}},
			{name: "over the size limit", msgs: append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(big, 4096)...),
				code: codes.InvalidArgument, fields: []string{bigLine}},
			{name: "no header", msgs: csvMsgs(other, 4096), code: codes.InvalidArgument, fields: []string{"header"}},
			{name: "bad snapshot name", msgs: []*statisticsv1.ImportPersonsRequest{header("snapshots/2026-02-30")}, code: codes.InvalidArgument, fields: []string{"header.snapshot"}},
			{name: "CSV then rows", msgs: append(append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(other, 4096)[:2]...),
				&statisticsv1.ImportPersonsRequest{Kind: &statisticsv1.ImportPersonsRequest_Persons{Persons: &statisticsv1.PersonBatch{}}}),
				code: codes.InvalidArgument, fields: []string{"csv_data"}},
			{name: "empty", msgs: []*statisticsv1.ImportPersonsRequest{header(name)}, code: codes.InvalidArgument, fields: []string{"fil"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.importPersons(t, tt.msgs, tt.end)
				if code(err) != tt.code {
					t.Fatalf("code = %v, want %v (%v)", code(err), tt.code, err)
				}
				if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
					t.Fatalf("fields = %q, want %q (%v)", got, tt.fields, err)
				}
				after, err := e.svc.QuerySnapshot(as(migrationsverket), &statisticsv1.QuerySnapshotRequest{Snapshot: name,
					GroupBy: []statisticsv1.Dimension{statisticsv1.Dimension_DIMENSION_KOMMUN, statisticsv1.Dimension_DIMENSION_AGE_BAND}})
				if err != nil {
					t.Fatal(err)
				}
				if len(after.GetRows()) != len(before.GetRows()) || after.GetTotal() != first.GetAdults() {
					t.Fatalf("snapshot changed: %d rows, total %d", len(after.GetRows()), after.GetTotal())
				}
				for i, r := range after.GetRows() {
					if r.GetCount() != before.GetRows()[i].GetCount() {
						t.Fatalf("row %d changed: %v, was %v", i, r, before.GetRows()[i])
					}
				}
				if n := len(e.outbox(t, statistics.SubjectSnapshotPublished)); n != 1 {
					t.Fatalf("%d events, want only the first import's", n)
				}
			})
		}
	})
}

func cellMsgs(name string, cells ...*statisticsv1.Cell) []*statisticsv1.ImportCellsRequest {
	return []*statisticsv1.ImportCellsRequest{
		{Kind: &statisticsv1.ImportCellsRequest_Header{Header: &statisticsv1.ImportHeader{Snapshot: name}}},
		{Kind: &statisticsv1.ImportCellsRequest_Cells{Cells: &statisticsv1.CellBatch{Cells: cells}}},
	}
}

func (e env) importCells(t *testing.T, name string, cells ...*statisticsv1.Cell) {
	t.Helper()
	s := &cellStream{ctx: as(migrationsverket), msgs: cellMsgs(name, cells...)}
	if err := e.svc.ImportCells(s); err != nil {
		t.Fatal(err)
	}
}

const (
	abe, ebo          = statisticsv1.HousingType_HOUSING_TYPE_ABE, statisticsv1.HousingType_HOUSING_TYPE_EBO
	kvinna, man       = statisticsv1.Sex_SEX_KVINNA, statisticsv1.Sex_SEX_MAN
	age18, age25      = statisticsv1.AgeBand_AGE_BAND_18_24, statisticsv1.AgeBand_AGE_BAND_25_34
	dimLan, dimKommun = statisticsv1.Dimension_DIMENSION_LAN, statisticsv1.Dimension_DIMENSION_KOMMUN
)

func TestCellImportErrors(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), domain.DefaultLimits)
	tests := []struct {
		name   string
		cells  []*statisticsv1.Cell
		fields []string
	}{
		{"negative count", []*statisticsv1.Cell{cell("0180", abe, man, age18, -3)}, []string{"row 1, column antal"}},
		{"duplicated cell", []*statisticsv1.Cell{cell("0180", abe, man, age18, 3), cell("0180", abe, man, age18, 4)}, []string{"row 2"}},
		{"unknown kommun", []*statisticsv1.Cell{cell("0180", abe, man, age18, 3), cell("0101", abe, man, age18, 4)}, []string{"row 2, column kommunkod"}},
		{"unknown housing type", []*statisticsv1.Cell{cell("0180", 7, man, age18, 3)}, []string{"row 1, column boendeform"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.ImportCells(&cellStream{ctx: as(migrationsverket), msgs: cellMsgs("snapshots/2026-10-31", tt.cells...)})
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %q, want %q (%v)", got, tt.fields, err)
			}
		})
	}
	if err := e.svc.ImportCells(&cellStream{ctx: as(countyBoard), msgs: cellMsgs("snapshots/2026-10-31", cell("0180", abe, man, age18, 3))}); code(err) != codes.PermissionDenied {
		t.Fatalf("county board imports: %v", err)
	}
}

func TestTimeSeriesCompareProjection(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, domain.DefaultLimits)
		e.importCells(t, "snapshots/2026-08-31", cell("0180", ebo, man, age25, 100), cell("0184", ebo, man, age25, 3), cell("1280", abe, kvinna, age18, 50))
		e.importCells(t, "snapshots/2026-09-30", cell("0180", ebo, man, age25, 110), cell("0184", ebo, man, age25, 9), cell("1280", abe, kvinna, age18, 40))
		e.importCells(t, "snapshots/2026-10-31", cell("0180", ebo, man, age25, 120), cell("0184", ebo, man, age25, 10), cell("2584", abe, kvinna, age18, 7))

		series, err := e.svc.QueryTimeSeries(as(migrationsverket), &statisticsv1.QueryTimeSeriesRequest{
			FromDate: "2026-09-01", GroupBy: []statisticsv1.Dimension{dimLan}})
		if err != nil {
			t.Fatal(err)
		}
		type point struct {
			date, lan string
			n         int64
		}
		var got []point
		for _, r := range series.GetRows() {
			got = append(got, point{r.GetReferenceDate(), r.GetLanCode(), r.GetCount()})
		}
		want := []point{
			{"2026-09-30", "01", 119}, {"2026-09-30", "12", 40}, {"2026-09-30", "", 159},
			{"2026-10-31", "01", 130}, {"2026-10-31", "25", 7}, {"2026-10-31", "", 137},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("series = %v, want %v", got, want)
		}
		// A county board's series carries each snapshot's published figures:
		// the same as its query of that snapshot, within ±3, never 1 or 2.
		boardSeries, err := e.svc.QueryTimeSeries(as(countyBoard), &statisticsv1.QueryTimeSeriesRequest{
			ToDate: "2026-09-30", GroupBy: []statisticsv1.Dimension{dimKommun}})
		if err != nil {
			t.Fatal(err)
		}
		truth := map[string]int64{"2026-08-31/0180": 100, "2026-08-31/0184": 3, "2026-08-31/1280": 50, "2026-09-30/0180": 110, "2026-09-30/0184": 9, "2026-09-30/1280": 40}
		for _, r := range boardSeries.GetRows() {
			one, err := e.svc.QuerySnapshot(as(countyBoard), &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/" + r.GetReferenceDate(), KommunCodes: []string{r.GetKommunCode()}})
			if r.GetKommunCode() == "" {
				one, err = e.svc.QuerySnapshot(as(countyBoard), &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/" + r.GetReferenceDate()})
			}
			if err != nil {
				t.Fatal(err)
			}
			d := r.GetCount() - truth[r.GetReferenceDate()+"/"+r.GetKommunCode()]
			if r.GetKommunCode() == "" {
				d = 0
			}
			if !boardSeries.GetPerturbed() || one.GetTotal() != r.GetCount() || r.GetCount() == 1 || r.GetCount() == 2 || d < -3 || d > 3 {
				t.Fatalf("series row %v: the same kommun's query gives %d", r, one.GetTotal())
			}
		}

		cmp, err := e.svc.CompareSnapshots(as(migrationsverket), &statisticsv1.CompareSnapshotsRequest{
			FromSnapshot: "snapshots/2026-08-31", ToSnapshot: "snapshots/2026-10-31"})
		if err != nil {
			t.Fatal(err)
		}
		changes := map[string]int64{}
		for _, r := range cmp.GetRows() {
			changes[r.GetKommunCode()] = r.GetChange()
		}
		if len(changes) != 4 || changes["0180"] != 20 || changes["0184"] != 7 || changes["1280"] != -50 || changes["2584"] != 7 {
			t.Fatalf("changes = %v", changes)
		}
		nation := cmp.GetTotals()[len(cmp.GetTotals())-1]
		if nation.GetFromCount() != 153 || nation.GetToCount() != 137 || nation.GetChange() != -16 {
			t.Fatalf("nation = %v", nation)
		}
		if _, err := e.svc.CompareSnapshots(as(countyBoard), &statisticsv1.CompareSnapshotsRequest{
			FromSnapshot: "snapshots/2026-07-31", ToSnapshot: "snapshots/2026-10-31"}); code(err) != codes.NotFound {
			t.Fatalf("compare with a missing snapshot: %v", err)
		}

		// Planned changes and the projection.
		pc, err := e.svc.CreatePlannedChange(as(migrationsverket), &statisticsv1.CreatePlannedChangeRequest{PlannedChange: &statisticsv1.PlannedChange{
			KommunCode: "0180", HousingType: abe, EffectiveDate: "2026-12-01", AdultsDelta: 300, Description: "Nytt anläggningsboende"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreatePlannedChange(as(migrationsverket), &statisticsv1.CreatePlannedChangeRequest{PlannedChange: &statisticsv1.PlannedChange{
			KommunCode: "2584", HousingType: abe, EffectiveDate: "2027-02-01", AdultsDelta: -7}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreatePlannedChange(as(countyBoard), &statisticsv1.CreatePlannedChangeRequest{PlannedChange: &statisticsv1.PlannedChange{
			KommunCode: "0180", HousingType: abe, EffectiveDate: "2026-12-01", AdultsDelta: 1}}); code(err) != codes.PermissionDenied {
			t.Fatalf("county board registers a change: %v", err)
		}
		_, err = e.svc.CreatePlannedChange(as(migrationsverket), &statisticsv1.CreatePlannedChangeRequest{PlannedChange: &statisticsv1.PlannedChange{
			KommunCode: "9999", HousingType: abe, EffectiveDate: "2026-12-32", AdultsDelta: 0}})
		if got := badrequest.Fields(err); !slices.Equal(got, []string{"planned_change.kommun_code", "planned_change.effective_date", "planned_change.adults_delta"}) {
			t.Fatalf("bad change: %v", got)
		}
		proj := func(date string) map[string]int64 {
			p, err := e.svc.GetProjection(as(migrationsverket), &statisticsv1.GetProjectionRequest{ProjectionDate: date})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int64{}
			for _, r := range append(p.GetRows(), p.GetTotals()...) {
				out[r.GetKommunCode()+"/"+r.GetLanCode()] = r.GetProjectedCount()
			}
			return out
		}
		if p := proj("2026-12-31"); p["0180/01"] != 420 || p["2584/25"] != 7 || p["/"] != 437 {
			t.Fatalf("projection to 2026-12-31 = %v", p)
		}
		if p := proj("2027-06-30"); p["0180/01"] != 420 || p["2584/25"] != 0 || p["/"] != 430 {
			t.Fatalf("projection to 2027-06-30 = %v", p)
		}
		if _, err := e.svc.GetProjection(as(migrationsverket), &statisticsv1.GetProjectionRequest{ProjectionDate: "2026-01-01"}); !slices.Equal(badrequest.Fields(err), []string{"projection_date"}) {
			t.Fatalf("projection into the past: %v", err)
		}
		var ev statisticsv1.ProjectionPublished
		e.event(t, statistics.SubjectProjectionPublished, 2, 0, &ev)
		// The event's figures are the published ones plus the change.
		published, err := e.svc.QuerySnapshot(as(countyBoard), &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/2026-10-31", KommunCodes: []string{"0180"}})
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetProjectionDate() != "2026-12-01" || ev.GetSnapshot() != "snapshots/2026-10-31" || !ev.GetPerturbed() ||
			len(ev.GetKommunTotals()) < 2 || ev.GetKommunTotals()[0].GetKommunCode() != "0180" || ev.GetKommunTotals()[0].GetAdults() != published.GetTotal()+300 {
			t.Fatalf("event = %v; 0180 is published as %d", &ev, published.GetTotal())
		}
		// A new snapshot moves every projection: one event per date with
		// planned changes after it.
		e.importCells(t, "snapshots/2026-11-30", cell("0180", ebo, man, age25, 130))
		var moved statisticsv1.ProjectionPublished
		e.event(t, statistics.SubjectProjectionPublished, 4, 2, &moved)
		if moved.GetSnapshot() != "snapshots/2026-11-30" || moved.GetProjectionDate() != "2026-12-01" ||
			len(moved.GetKommunTotals()) != 1 || moved.GetKommunTotals()[0].GetAdults() < 427 || moved.GetKommunTotals()[0].GetAdults() > 433 {
			t.Fatalf("projection after the new snapshot = %v", &moved)
		}
		if _, err := e.svc.DeletePlannedChange(as(migrationsverket), &statisticsv1.DeletePlannedChangeRequest{Name: pc.GetName()}); err != nil {
			t.Fatal(err)
		}
		if p := proj("2026-12-31"); p["0180/01"] != 130 {
			t.Fatalf("after withdrawal = %v", p)
		}
		if _, err := e.svc.DeletePlannedChange(as(migrationsverket), &statisticsv1.DeletePlannedChangeRequest{Name: pc.GetName()}); code(err) != codes.NotFound {
			t.Fatalf("second delete: %v", err)
		}
		list, err := e.svc.ListPlannedChanges(as(countyBoard), &statisticsv1.ListPlannedChangesRequest{})
		if err != nil || len(list.GetPlannedChanges()) != 1 {
			t.Fatalf("list = %v, %v", list, err)
		}
		snaps, err := e.svc.ListSnapshots(as(countyBoard), &statisticsv1.ListSnapshotsRequest{})
		if err != nil || len(snaps.GetSnapshots()) != 4 || snaps.GetSnapshots()[0].GetName() != "snapshots/2026-11-30" {
			t.Fatalf("snapshots = %v, %v", snaps, err)
		}
	})
}

// TestDisclosureByRole: Migrationsverket reads exact figures; every other
// role reads the same published ones, in which no small count shows as 1 or
// 2 and every figure is within ±3 of the truth.
func TestDisclosureByRole(t *testing.T) {
	e := newEnv(t, dbtest.NewSQLite(t), domain.DefaultLimits)
	e.importCells(t, "snapshots/2026-10-31",
		cell("0180", abe, man, age25, 3), cell("0180", ebo, man, age25, 40), cell("0184", abe, man, age25, 1),
		cell("0184", ebo, man, age25, 30), cell("1280", ebo, man, age25, 2))
	q := &statisticsv1.QuerySnapshotRequest{Snapshot: "snapshots/2026-10-31",
		GroupBy: []statisticsv1.Dimension{dimKommun, statisticsv1.Dimension_DIMENSION_HOUSING_TYPE}}
	open, err := e.svc.QuerySnapshot(as(migrationsverket), q)
	if err != nil {
		t.Fatal(err)
	}
	if open.GetPerturbed() || open.GetRows()[0].GetCount() != 3 || open.GetRows()[2].GetCount() != 1 || open.GetTotal() != 76 {
		t.Fatalf("Migrationsverket's own figures changed: %v", open)
	}
	truth := map[string]int64{}
	for _, r := range append(open.GetRows(), open.GetSubtotals()...) {
		truth[r.GetLanCode()+r.GetKommunCode()+r.GetHousingType().String()] = r.GetCount()
	}
	var first *statisticsv1.QuerySnapshotResponse
	for _, p := range []auth.Principal{countyBoard, organiser, folkbildningsradet, asylumSeeker} {
		resp, err := e.svc.QuerySnapshot(as(p), q)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = resp
		} else if !proto.Equal(first, resp) {
			t.Fatalf("%s reads %v, %s read %v", p.Role, resp, countyBoard.Role, first)
		}
		if !resp.GetPerturbed() {
			t.Fatalf("%s: figures not marked perturbed", p.Role)
		}
		for _, r := range append(resp.GetRows(), resp.GetSubtotals()...) {
			n, d := r.GetCount(), r.GetCount()-truth[r.GetLanCode()+r.GetKommunCode()+r.GetHousingType().String()]
			if n < 3 || d < -3 || d > 3 || r.GetSuppressed() {
				t.Fatalf("%s reads %v (true %d)", p.Role, r, truth[r.GetLanCode()+r.GetKommunCode()+r.GetHousingType().String()])
			}
		}
	}
	t.Logf("published to everyone but Migrationsverket: rows %v subtotals %v total %d", first.GetRows(), first.GetSubtotals(), first.GetTotal())
}

// TestReadersNeverSeeHalfAnImport re-imports a date over and over while
// readers query it: every answer is wholly one import or the other.
func TestReadersNeverSeeHalfAnImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, domain.DefaultLimits)
		const name = "snapshots/2026-10-31"
		texts := []string{genCSV(t, 21, 4000, "2026-10-31"), genCSV(t, 22, 6000, "2026-10-31")}
		totals := map[int64]bool{}
		for _, text := range texts {
			sum, err := e.importPersons(t, append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(text, 8192)...), nil)
			if err != nil {
				t.Fatal(err)
			}
			totals[sum.GetAdults()] = true
		}
		done := make(chan error, 1)
		go func() {
			for i := range 8 {
				s := &personStream{ctx: as(migrationsverket), msgs: append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(texts[i%2], 8192)...)}
				if err := e.svc.ImportPersons(s); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for reading := true; reading; {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				reading = false
			default:
			}
			resp, err := e.svc.QuerySnapshot(as(migrationsverket), &statisticsv1.QuerySnapshotRequest{Snapshot: name,
				GroupBy: []statisticsv1.Dimension{dimKommun}})
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, r := range resp.GetRows() {
				sum += r.GetCount()
			}
			if !totals[resp.GetTotal()] || sum != resp.GetTotal() {
				t.Fatalf("saw total %d (rows %d), want one of %v", resp.GetTotal(), sum, totals)
			}
			snap, err := e.svc.GetSnapshot(as(migrationsverket), &statisticsv1.GetSnapshotRequest{Name: name})
			if err != nil || !totals[snap.GetTotal()] {
				t.Fatalf("snapshot %v, %v", snap, err)
			}
		}
	})
}

// TestKeptAnswersFollowAReimport: the service keeps each answer with its
// snapshot, exact and published alike; importing the snapshot again
// replaces them, so the same query, snapshot or time series, answers with
// the new figures at once.
func TestKeptAnswersFollowAReimport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, domain.DefaultLimits)
		const date = "2026-10-31"
		const name = "snapshots/" + date
		byLan := []statisticsv1.Dimension{dimLan}
		totals := func() (exact, board, series int64) {
			t.Helper()
			for _, p := range []auth.Principal{migrationsverket, countyBoard} {
				resp, err := e.svc.QuerySnapshot(as(p), &statisticsv1.QuerySnapshotRequest{Snapshot: name, GroupBy: byLan})
				if err != nil {
					t.Fatal(err)
				}
				if p == migrationsverket {
					exact = resp.GetTotal()
				} else {
					board = resp.GetTotal()
				}
			}
			ts, err := e.svc.QueryTimeSeries(as(countyBoard), &statisticsv1.QueryTimeSeriesRequest{GroupBy: byLan})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range ts.GetRows() {
				if r.GetLanCode() == "" { // the snapshot's total row
					series += r.GetCount()
				}
			}
			return exact, board, series
		}
		for i, rows := range []int{3000, 6000} {
			if _, err := e.importPersons(t, append([]*statisticsv1.ImportPersonsRequest{header(name)}, csvMsgs(genCSV(t, uint64(i), rows, date), 1<<16)...), nil); err != nil {
				t.Fatal(err)
			}
			// Asked twice: the second answer is the kept one.
			exact, board, series := totals()
			exact2, board2, series2 := totals()
			if exact2 != exact || board2 != board || series2 != series {
				t.Fatalf("import %d: asked again, %d, %d, %d; first %d, %d, %d", i, exact2, board2, series2, exact, board, series)
			}
			// About 80 % of the generated people are adults.
			if exact < int64(rows)/2 || exact > int64(rows) || board < exact-int64(rows)/50 || board > exact+int64(rows)/50 || series != board {
				t.Fatalf("import %d of %d people: exact %d, county board %d, series %d", i, rows, exact, board, series)
			}
		}
	})
}
