package embedded

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tia-platform/tia/gateway"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/statistics/generate"
)

// send sends body with the given content type and accept header and returns
// the status, the content type and the body.
func (c client) send(method, path, contentType, accept string, body io.Reader) (int, string, []byte) {
	c.T.Helper()
	return c.Read(method, path, body, "Content-Type", contentType, "Accept", accept)
}

func jsonBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return m
}

// readDownload parses a download: UTF-8 with a byte-order mark, header first.
func readDownload(t *testing.T, contentType string, b []byte) [][]string {
	t.Helper()
	if !strings.HasPrefix(contentType, "text/csv") {
		t.Fatalf("content type %q: %s", contentType, b)
	}
	rest, ok := bytes.CutPrefix(b, []byte("\ufeff"))
	if !ok {
		t.Fatalf("no byte-order mark: %q", b[:min(20, len(b))])
	}
	recs, err := csv.NewReader(bytes.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// manyLines names column kön on n lines from line from.
func manyLines(from, n int) []string {
	var out []string
	for i := range n {
		out = append(out, "line "+strconv.Itoa(from+i)+", column kön")
	}
	return out
}

func extractCSV(t *testing.T, seed uint64, adults int, date string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := generate.Write(&b, generate.Options{Seed: seed, Rows: generate.RowsForAdults(adults), ReferenceDate: date}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestStatisticsCSVUpload(t *testing.T) {
	p := start(t)
	mv := p.as(t, &DemoMigrationsverket)
	board := p.as(t, &DemoCountyBoard)
	const path = "/v1/snapshots:importPersons?snapshot=snapshots/2026-10-31"

	extract := extractCSV(t, 1, 20_000, "2026-10-31")
	code, ct, body := mv.send("POST", path, "text/csv", "", bytes.NewReader(extract))
	if code != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("upload: HTTP %d %s %s", code, ct, body)
	}
	summary := jsonBody(t, body)
	rows := int64(bytes.Count(extract, []byte("\n")) - 1)
	adults, _ := strconv.ParseInt(summary["adults"].(string), 10, 64)
	under18, _ := strconv.ParseInt(summary["under18"].(string), 10, 64)
	if summary["rowsRead"] != strconv.FormatInt(rows, 10) || adults+under18 != rows || adults < 19_000 || adults > 21_000 {
		t.Fatalf("summary = %v", summary)
	}

	// Mistakes name the line and the column, and change nothing.
	lines := strings.SplitAfter(string(extract), "\n")
	bad := slices.Clone(lines)
	bad[16] = "0180,ABE,kvinna,1990-02-30\n" // line 17
	bad[99] = "0180,HVB,man,1990-01-01\n"    // line 100
	tests := []struct {
		name   string
		path   string
		body   string
		fields []string
	}{
		{"bad date and unknown housing type", path, strings.Join(bad, ""), []string{"line 17, column födelsedatum", "line 100, column boendeform"}},
		{"wrong header", path, "kommun;boende;kön;född\n0180;ABE;man;1990-01-01\n", []string{
			"line 1, column 1", "line 1, column 2", "line 1, column 4",
			"line 1, column kommunkod", "line 1, column boendeform", "line 1, column födelsedatum"}},
		{"truncated", path, strings.Join(lines[:50], "") + "0180,EBO", []string{"line 51, column kön"}},
		{"no snapshot named", "/v1/snapshots:importPersons", string(extract), []string{"header.snapshot"}},
		{"every line wrong: reading stops", path, strings.ReplaceAll(strings.ReplaceAll(string(extract), ",man,", ",x,"), ",kvinna,", ",x,"), manyLines(2, 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := mv.send("POST", tt.path, "text/csv", "", strings.NewReader(tt.body))
			if got := violatedFields(jsonBody(t, body)); code != http.StatusBadRequest || !slices.Equal(got, tt.fields) {
				t.Fatalf("HTTP %d, fields %q, want %q: %s", code, got, tt.fields, body)
			}
		})
	}
	if code, body := mv.Do("GET", "/v1/snapshots/2026-10-31", nil); code != http.StatusOK || body["total"] != summary["adults"] {
		t.Fatalf("snapshot after refused uploads: HTTP %d %v", code, body)
	}
	if code, _, _ := board.send("POST", path, "text/csv", "", bytes.NewReader(extract)); code != http.StatusForbidden {
		t.Fatalf("county board upload: HTTP %d", code)
	}

	// Pre-aggregated cells, semicolon-separated as Swedish Excel saves them.
	cells := "kommunkod;boendeform;kön;åldersgrupp;antal\n0180;ABE;kvinna;18-24;12\n0180;EBO;man;25-34;30\n1280;ÖVRIGT;man;65+;2\n"
	code, _, body = mv.send("POST", "/v1/snapshots:importCells?snapshot=snapshots/2026-09-30", "text/csv", "", strings.NewReader(cells))
	if code != http.StatusOK || jsonBody(t, body)["adults"] != "44" {
		t.Fatalf("cells upload: HTTP %d %s", code, body)
	}
	dup := cells + "0180;ABE;kvinna;18–24;1\n"
	code, _, body = mv.send("POST", "/v1/snapshots:importCells?snapshot=snapshots/2026-09-30", "text/csv", "", strings.NewReader(dup))
	if got := violatedFields(jsonBody(t, body)); code != http.StatusBadRequest || !slices.Equal(got, []string{"line 5"}) {
		t.Fatalf("duplicated cell: HTTP %d %q", code, got)
	}
}

func TestStatisticsCSVDownload(t *testing.T) {
	p := start(t)
	mv := p.as(t, &DemoMigrationsverket)
	board := p.as(t, &DemoCountyBoard)
	for i, date := range []string{"2026-09-30", "2026-10-31"} {
		if code, _, body := mv.send("POST", "/v1/snapshots:importPersons?snapshot=snapshots/"+date, "text/csv", "",
			bytes.NewReader(extractCSV(t, uint64(10+i), 20_000, date))); code != http.StatusOK {
			t.Fatalf("upload %s: HTTP %d %s", date, code, body)
		}
	}

	// A grouped query as a spreadsheet, as Migrationsverket (every count).
	const query = "/v1/snapshots/2026-10-31:query?groupBy=DIMENSION_LAN&groupBy=DIMENSION_HOUSING_TYPE"
	code, ct, body := mv.send("GET", query, "", "text/csv", nil)
	if code != http.StatusOK {
		t.Fatalf("download: HTTP %d %s", code, body)
	}
	recs := readDownload(t, ct, body)
	if want := []string{"typ", "länskod", "län", "boendeform", "antal"}; !slices.Equal(recs[0], want) {
		t.Fatalf("header %q, want %q", recs[0], want)
	}
	var rowSum, total int64
	byLan := map[string]int64{}
	for _, r := range recs[1:] {
		n, err := strconv.ParseInt(r[4], 10, 64)
		if err != nil {
			t.Fatalf("count %q in %q", r[4], r)
		}
		switch {
		case r[0] == "rad":
			rowSum += n
			byLan[r[1]] += n
			if r[2] == "" || (r[3] != "ABE" && r[3] != "EBO" && r[3] != "ÖVRIGT") {
				t.Fatalf("row %q", r)
			}
		case r[0] == "delsumma" && r[1] != "" && byLan[r[1]] != n:
			t.Fatalf("län subtotal %q, rows add up to %d", r, byLan[r[1]])
		case r[0] == "summa":
			total = n
		}
	}
	if rowSum != total || total < 19_000 {
		t.Fatalf("rows add up to %d, total %d", rowSum, total)
	}
	if !bytes.Contains(body, []byte("Stockholms län")) {
		t.Fatal("no län names")
	}

	// By kommun, as a county board: published figures (never 1 or 2, nothing
	// withheld), the same in the spreadsheet as in JSON.
	const boardQuery = "/v1/snapshots/2026-10-31:query?groupBy=DIMENSION_KOMMUN&groupBy=DIMENSION_AGE_BAND&lanCodes=01"
	code, ct, body = board.send("GET", boardQuery, "", "text/csv", nil)
	if code != http.StatusOK {
		t.Fatalf("county board download: HTTP %d %s", code, body)
	}
	recs = readDownload(t, ct, body)
	if !slices.Equal(recs[0], []string{"typ", "länskod", "län", "kommunkod", "kommun", "åldersgrupp", "antal"}) {
		t.Fatalf("header %q", recs[0])
	}
	code, asJSON := board.Do("GET", boardQuery, nil)
	if code != http.StatusOK || asJSON["perturbed"] != true {
		t.Fatalf("county board JSON: HTTP %d perturbed=%v", code, asJSON["perturbed"])
	}
	jsonRows := asJSON["rows"].([]any)
	csvRows := 0
	for _, r := range recs[1:] {
		n, err := strconv.Atoi(r[6])
		if err != nil || n == 1 || n == 2 {
			t.Fatalf("published %q", r)
		}
		if r[0] != "rad" {
			continue
		}
		j := jsonRows[csvRows].(map[string]any)
		if j["kommunCode"] != r[3] || j["count"] != r[6] {
			t.Fatalf("CSV row %q, JSON row %v", r, j)
		}
		csvRows++
	}
	if csvRows != len(jsonRows) {
		t.Fatalf("CSV has %d rows, JSON %d", csvRows, len(jsonRows))
	}

	// A time series and a comparison download as well.
	code, ct, body = board.send("GET", "/v1/snapshots:timeSeries?groupBy=DIMENSION_LAN", "", "text/csv", nil)
	if recs = readDownload(t, ct, body); code != http.StatusOK || recs[0][0] != "referensdatum" || len(recs) < 2*21 {
		t.Fatalf("time series: HTTP %d %q", code, recs[:min(3, len(recs))])
	}
	code, ct, body = board.send("GET", "/v1/snapshots:compare?fromSnapshot=snapshots/2026-09-30&toSnapshot=snapshots/2026-10-31", "", "text/csv", nil)
	if recs = readDownload(t, ct, body); code != http.StatusOK || !slices.Contains(recs[0], "förändring") || !slices.Contains(recs[0], "antal_från") {
		t.Fatalf("compare: HTTP %d %q", code, recs[:min(3, len(recs))])
	}
	// A link with format=csv, for spreadsheet programs that set no headers.
	code, ct, body = board.send("GET", "/v1/snapshots/2026-10-31:query?groupBy=DIMENSION_SEX&format=csv", "", "", nil)
	if recs = readDownload(t, ct, body); code != http.StatusOK || !slices.Equal(recs[0], []string{"typ", "kön", "antal"}) || len(recs) != 4 {
		t.Fatalf("format=csv: HTTP %d %q", code, recs)
	}
	// JSON stays the default.
	if code, body := board.Do("GET", "/v1/snapshots/2026-10-31:query?groupBy=DIMENSION_LAN", nil); code != http.StatusOK || body["rows"] == nil {
		t.Fatalf("JSON query: HTTP %d %v", code, body)
	}
	_ = auth.RoleMigrationsverket
}

// TestStatisticsCSVOverNetwork sends a CSV upload through a gateway that
// reaches the services over network gRPC, as in production (the embedded
// default uses an in-process channel).
func TestStatisticsCSVOverNetwork(t *testing.T) {
	p := start(t)
	conn, err := grpc.NewClient(p.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h, err := gateway.New(context.Background(), gateway.Backends{Activity: conn, Statistics: conn, Travel: conn, Notification: conn}, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	mv := p.as(t, &DemoMigrationsverket)
	mv.Base = srv.URL
	extract := extractCSV(t, 3, 20_000, "2026-10-31")
	code, _, body := mv.send("POST", "/v1/snapshots:importPersons?snapshot=snapshots/2026-10-31", "text/csv", "", bytes.NewReader(extract))
	if code != http.StatusOK || jsonBody(t, body)["rowsRead"] != strconv.Itoa(bytes.Count(extract, []byte("\n"))-1) {
		t.Fatalf("upload over the network: HTTP %d %s", code, body)
	}
	lines := strings.SplitAfter(string(extract), "\n")
	lines[1] = "9999,ABE,man,1990-01-01\n" // line 2: an unknown kommun
	bad := strings.Join(lines, "")
	code, _, body = mv.send("POST", "/v1/snapshots:importPersons?snapshot=snapshots/2026-10-31", "text/csv", "", strings.NewReader(bad))
	if got := violatedFields(jsonBody(t, body)); code != http.StatusBadRequest || !slices.Equal(got, []string{"line 2, column kommunkod"}) {
		t.Fatalf("bad upload over the network: HTTP %d %q", code, got)
	}
	// The spreadsheet the statistics service renders reaches the client
	// over network gRPC too: the client's Accept travels to the service as
	// metadata, the file back in the response's document.
	board := p.as(t, &DemoCountyBoard)
	board.Base = srv.URL
	code, ct, body := board.send("GET", "/v1/snapshots/2026-10-31:query?groupBy=DIMENSION_HOUSING_TYPE", "", "text/csv", nil)
	if recs := readDownload(t, ct, body); code != http.StatusOK || !slices.Equal(recs[0], []string{"typ", "boendeform", "antal"}) || len(recs) != 5 {
		t.Fatalf("download over the network: HTTP %d %q", code, recs)
	}
}
