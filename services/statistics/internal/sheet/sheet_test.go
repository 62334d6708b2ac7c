package sheet

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
)

func render(t *testing.T, m proto.Message) [][]string {
	t.Helper()
	b, err := Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(b, []byte("\ufeff")) {
		t.Fatal("a byte-order mark: the edge adds one for the dialects that want it")
	}
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Fatalf("lines not ended by CRLF (RFC 4180): %q", b)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func equal(t *testing.T, got, want [][]string) {
	t.Helper()
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("csv =\n%q\nwant\n%q", got, want)
	}
}

// TestQuery: a grouped query's rows, subtotals and total with their kind,
// Swedish names, labels, kommun and län names; the dimensions no row uses
// left out, withheld counts as SCB's "..".
func TestQuery(t *testing.T) {
	resp := &statisticsv1.QuerySnapshotResponse{
		Rows: []*statisticsv1.QueryRow{
			{KommunCode: "0180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_OVRIGT, Suppressed: true},
			{KommunCode: "0180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_EBO, Count: 40},
		},
		Subtotals: []*statisticsv1.QueryRow{{LanCode: "01", Count: 43, Suppressed: true}},
		Total:     43, TotalSuppressed: true,
	}
	equal(t, render(t, resp), [][]string{
		{"typ", "länskod", "län", "kommunkod", "kommun", "boendeform", "antal"},
		{"rad", "", "", "0180", "Stockholm", "ÖVRIGT", ".."},
		{"rad", "", "", "0180", "Stockholm", "EBO", "40"},
		{"delsumma", "01", "Stockholms län", "", "", "", ".."},
		{"summa", "", "", "", "", "", ".."},
	})
	// Grouped by sex and age band, as published.
	resp = &statisticsv1.QuerySnapshotResponse{
		Rows: []*statisticsv1.QueryRow{
			{Sex: statisticsv1.Sex_SEX_KVINNA, AgeBand: statisticsv1.AgeBand_AGE_BAND_18_24, Count: 12},
			{Sex: statisticsv1.Sex_SEX_MAN, AgeBand: statisticsv1.AgeBand_AGE_BAND_65_PLUS, Count: 3},
		},
		Total: 15, Perturbed: true,
	}
	equal(t, render(t, resp), [][]string{
		{"typ", "kön", "åldersgrupp", "antal"},
		{"rad", "kvinna", "18–24", "12"},
		{"rad", "man", "65+", "3"},
		{"summa", "", "", "15"},
	})
	// No rows: the count and the total, one kind of line.
	equal(t, render(t, &statisticsv1.QuerySnapshotResponse{Total: 0}), [][]string{{"antal"}, {"0"}})
}

// TestTimeSeries: the reference date comes first; one kind of line, so no
// typ column.
func TestTimeSeries(t *testing.T) {
	resp := &statisticsv1.QueryTimeSeriesResponse{Rows: []*statisticsv1.QueryRow{
		{ReferenceDate: "2026-09-30", LanCode: "25", Count: 7},
		{ReferenceDate: "2026-09-30", Count: 7},
		{ReferenceDate: "2026-10-31", LanCode: "25", Count: 9},
	}}
	equal(t, render(t, resp), [][]string{
		{"referensdatum", "länskod", "län", "antal"},
		{"2026-09-30", "25", "Norrbottens län", "7"},
		{"2026-09-30", "", "", "7"},
		{"2026-10-31", "25", "Norrbottens län", "9"},
	})
}

// TestCompareAndProjection: rows and totals; a negative change stays a
// number a spreadsheet can add.
func TestCompareAndProjection(t *testing.T) {
	cmp := &statisticsv1.CompareSnapshotsResponse{
		Rows:   []*statisticsv1.ChangeRow{{LanCode: "12", KommunCode: "1280", FromCount: 50, ToCount: 47, Change: -3}},
		Totals: []*statisticsv1.ChangeRow{{LanCode: "12", FromCount: 50, ToCount: 47, Change: -3}, {FromCount: 50, ToCount: 47, Change: -3}},
	}
	equal(t, render(t, cmp), [][]string{
		{"typ", "länskod", "län", "kommunkod", "kommun", "antal_från", "antal_till", "förändring"},
		{"rad", "12", "Skåne län", "1280", "Malmö", "50", "47", "-3"},
		{"summa", "12", "Skåne län", "", "", "50", "47", "-3"},
		{"summa", "", "", "", "", "50", "47", "-3"},
	})
	proj := &statisticsv1.Projection{
		Snapshot: "snapshots/2026-10-31", ProjectionDate: "2026-12-31",
		Rows:   []*statisticsv1.ProjectionRow{{LanCode: "01", KommunCode: "0180", SnapshotCount: 120, PlannedDelta: 300, ProjectedCount: 420}},
		Totals: []*statisticsv1.ProjectionRow{{SnapshotCount: 120, PlannedDelta: 300, ProjectedCount: 420}},
	}
	equal(t, render(t, proj), [][]string{
		{"typ", "länskod", "län", "kommunkod", "kommun", "antal_ögonblicksbild", "planerad_förändring", "beräknat_antal"},
		{"rad", "01", "Stockholms län", "0180", "Stockholm", "120", "300", "420"},
		{"summa", "", "", "", "", "120", "300", "420"},
	})
}

// TestLists: snapshots and planned changes, with their times in RFC 3339,
// flags as ja/nej, and text a spreadsheet would evaluate neutralised.
func TestLists(t *testing.T) {
	at := timestamppb.New(time.Date(2026, 11, 1, 7, 30, 0, 0, time.UTC))
	snaps := &statisticsv1.ListSnapshotsResponse{Snapshots: []*statisticsv1.Snapshot{
		{Name: "snapshots/2026-10-31", CellCount: 3, Total: 137, ImportTime: at, Perturbed: true},
	}}
	equal(t, render(t, snaps), [][]string{
		{"namn", "celler", "totalt", "importerad", "perturbed"},
		{"snapshots/2026-10-31", "3", "137", "2026-11-01T07:30:00Z", "ja"},
	})
	changes := &statisticsv1.ListPlannedChangesResponse{PlannedChanges: []*statisticsv1.PlannedChange{{
		Name: "plannedChanges/a1", KommunCode: "0180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_ABE,
		EffectiveDate: "2026-12-01", AdultsDelta: -40, Description: `=HYPERLINK("http://x")`, CreateTime: at,
	}}}
	equal(t, render(t, changes), [][]string{
		{"namn", "kommunkod", "kommun", "boendeform", "från_datum", "förändring_vuxna", "beskrivning", "registrerad"},
		{"plannedChanges/a1", "0180", "Stockholm", "ABE", "2026-12-01", "-40", `'=HYPERLINK("http://x")`, "2026-11-01T07:30:00Z"},
	})
	// An empty list: the header of every column.
	equal(t, render(t, &statisticsv1.ListSnapshotsResponse{}), [][]string{{"namn", "celler", "totalt", "importerad", "perturbed"}})
}
