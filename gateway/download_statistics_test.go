package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
)

// renderingStatistics answers as the statistics service does: a query
// carries the spreadsheet the service renders of it when the call accepts
// text/csv, and records what the call accepted.
type renderingStatistics struct {
	statisticsv1.UnimplementedStatisticsServiceServer
	accepted []string
}

func (f *renderingStatistics) QuerySnapshot(ctx context.Context, _ *statisticsv1.QuerySnapshotRequest) (*statisticsv1.QuerySnapshotResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.accepted = md.Get("grpcgateway-accept")
	resp := &statisticsv1.QuerySnapshotResponse{Rows: []*statisticsv1.QueryRow{{KommunCode: "0180", Count: -3}}, Total: -3, Perturbed: true}
	if len(f.accepted) == 1 && f.accepted[0] == MIMECSV {
		resp.Document = &statisticsv1.Document{ContentType: "text/csv; charset=utf-8",
			Data: []byte("typ,kommunkod,kommun,antal\r\nrad,0180,Stockholm,-3\r\nsumma,,,-3\r\n")}
	}
	return resp, nil
}

// statisticsEdge is the mux with gateway.New's options for formats, over an
// in-process statistics service.
func statisticsEdge(t *testing.T, stats statisticsv1.StatisticsServiceServer) http.Handler {
	t.Helper()
	now = func() time.Time { return time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC) } // 2 December in Stockholm
	t.Cleanup(func() { now = time.Now })
	jsonMarshaler := &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{MarshalOptions: protojson.MarshalOptions{EmitDefaultValues: true}}}
	mux := runtime.NewServeMux(formatOptions(jsonMarshaler)...)
	if err := statisticsv1.RegisterStatisticsServiceHandlerServer(context.Background(), mux, stats); err != nil {
		t.Fatal(err)
	}
	return csvUploads(mux)
}

// TestServiceRenderedSpreadsheet: a statistics download is the service's
// own spreadsheet, passed on in the client's dialect; the edge tells the
// service what the client accepts and adds no layout of its own.
func TestServiceRenderedSpreadsheet(t *testing.T) {
	stats := &renderingStatistics{}
	edge := statisticsEdge(t, stats)

	const sv = "\ufefftyp;kommunkod;kommun;antal\r\nrad;0180;Stockholm;-3\r\nsumma;;;-3\r\n"
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		want                     string
	}{
		{"Accept, Swedish", "GET", "/v1/snapshots/2026-10-31:query", "", []string{"Accept", "text/csv", "Accept-Language", "sv-SE"}, sv},
		{"preferred over JSON", "GET", "/v1/snapshots/2026-10-31:query?dialect=excel-sv", "", []string{"Accept", "application/json;q=0.5, text/csv;q=0.9"}, sv},
		{"format=csv link", "GET", "/v1/snapshots/2026-10-31:query?format=csv&dialect=rfc4180", "", nil,
			"typ,kommunkod,kommun,antal\r\nrad,0180,Stockholm,-3\r\nsumma,,,-3\r\n"},
		{"POST with a body", "POST", "/v1/snapshots/2026-10-31:query?format=csv", `{"groupBy":["DIMENSION_KOMMUN"]}`, []string{"Accept-Language", "en"},
			"\ufefftyp,kommunkod,kommun,antal\r\nrad,0180,Stockholm,-3\r\nsumma,,,-3\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := call(edge, tc.method, tc.path, tc.body, tc.headers...)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
				rec.Header().Get("Content-Disposition") != `attachment; filename="query-snapshot-2026-12-02.csv"` || rec.Body.String() != tc.want {
				t.Fatalf("HTTP %d %v %q; the service was told %q", rec.Code, rec.Header(), rec.Body, stats.accepted)
			}
			if len(stats.accepted) != 1 || stats.accepted[0] != MIMECSV {
				t.Fatalf("the service was told the client accepts %q", stats.accepted)
			}
		})
	}
	// JSON stays the default, and carries no document.
	rec := call(edge, "GET", "/v1/snapshots/2026-10-31:query", "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") || strings.Contains(rec.Body.String(), `"document"`) {
		t.Fatalf("JSON: HTTP %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}
