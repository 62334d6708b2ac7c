package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/proto/openapi"
)

// bareGateway is the edge's routing (the generated routes under "/", the
// edge's own routes beside them) in front of a backend that serves only
// health: every generated route answers 501 (UNIMPLEMENTED), which tells a
// request that reached grpc-gateway from one that a route of the edge's own
// answered.
func bareGateway(t *testing.T) http.Handler {
	t.Helper()
	_, cc := loopback(t, func(srv *grpc.Server) { healthpb.RegisterHealthServer(srv, health.NewServer()) })
	ctx := context.Background()
	mux := runtime.NewServeMux()
	for _, err := range []error{
		activityv1.RegisterActivityServiceHandlerClient(ctx, mux, activityv1.NewActivityServiceClient(cc)),
		statisticsv1.RegisterStatisticsServiceHandlerClient(ctx, mux, statisticsv1.NewStatisticsServiceClient(cc)),
		travelv1.RegisterTravelServiceHandlerClient(ctx, mux, travelv1.NewTravelServiceClient(cc)),
		notificationv1.RegisterNotificationServiceHandlerClient(ctx, mux, notificationv1.NewNotificationServiceClient(cc)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	root := http.NewServeMux()
	root.Handle("/", mux)
	mountRefdata(root)
	mountDocs(root)
	return root
}

func fetch(t *testing.T, h http.Handler, path string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRefdataLanAndKommuner(t *testing.T) {
	h := bareGateway(t)

	rec := fetch(t, h, "/v1/lan")
	var lans struct {
		Lan []refLan `json:"lan"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &lans) != nil || len(lans.Lan) != 21 {
		t.Fatalf("GET /v1/lan: %d %s", rec.Code, rec.Body.String())
	}
	if l := lans.Lan[3]; l != (refLan{Name: "lan/05", Code: "05", DisplayName: "Östergötlands län", KommunCount: 13}) {
		t.Errorf("fourth län = %+v", l)
	}

	rec = fetch(t, h, "/v1/lan/05")
	var lan refLan
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &lan) != nil || lan.DisplayName != "Östergötlands län" {
		t.Fatalf("GET /v1/lan/05: %d %s", rec.Code, rec.Body.String())
	}

	rec = fetch(t, h, "/v1/kommuner")
	var all struct {
		Kommuner []refKommun `json:"kommuner"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &all) != nil || len(all.Kommuner) != 290 {
		t.Fatalf("GET /v1/kommuner: %d, %d kommuner", rec.Code, len(all.Kommuner))
	}

	rec = fetch(t, h, "/v1/kommuner?lan=05")
	var inLan struct {
		Kommuner []refKommun `json:"kommuner"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &inLan) != nil || len(inLan.Kommuner) != 13 {
		t.Fatalf("GET /v1/kommuner?lan=05: %d %s", rec.Code, rec.Body.String())
	}
	for _, k := range inLan.Kommuner {
		if k.LanCode != "05" || k.Lan != "lan/05" || !strings.HasPrefix(k.Code, "05") {
			t.Errorf("kommun %+v listed for län 05", k)
		}
	}

	rec = fetch(t, h, "/v1/kommuner/0580")
	var k refKommun
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &k) != nil {
		t.Fatalf("GET /v1/kommuner/0580: %d %s", rec.Code, rec.Body.String())
	}
	// Linköping's seat: 58.41° N, 15.62° E.
	if k.DisplayName != "Linköping" || k.Lan != "lan/05" || k.Position.Latitude < 58.3 || k.Position.Latitude > 58.5 ||
		k.Position.Longitude < 15.5 || k.Position.Longitude > 15.7 {
		t.Errorf("kommun 0580 = %+v", k)
	}
}

func TestRefdataCaching(t *testing.T) {
	h := bareGateway(t)
	for _, path := range []string{"/v1/lan", "/v1/lan/01", "/v1/kommuner", "/v1/kommuner?lan=01", "/v1/kommuner/0180"} {
		rec := fetch(t, h, path)
		etag := rec.Header().Get("ETag")
		if rec.Code != http.StatusOK || !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
			t.Fatalf("%s: %d, ETag %q (want a strong one)", path, rec.Code, etag)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
		again := fetch(t, h, path, "If-None-Match", `"other", `+etag)
		if again.Code != http.StatusNotModified || again.Body.Len() != 0 || again.Header().Get("ETag") != etag {
			t.Errorf("%s with If-None-Match: %d, %d bytes, ETag %q", path, again.Code, again.Body.Len(), again.Header().Get("ETag"))
		}
		if stale := fetch(t, h, path, "If-None-Match", `"stale"`); stale.Code != http.StatusOK {
			t.Errorf("%s with a stale If-None-Match: %d", path, stale.Code)
		}
	}
	if a, b := fetch(t, h, "/v1/kommuner?lan=01").Header().Get("ETag"), fetch(t, h, "/v1/kommuner?lan=03").Header().Get("ETag"); a == b {
		t.Errorf("two different lists share the ETag %s", a)
	}
}

func TestRefdataErrors(t *testing.T) {
	h := bareGateway(t)
	type status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type            string `json:"@type"`
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
		} `json:"details"`
	}
	for _, tc := range []struct {
		path      string
		wantHTTP  int
		wantField string
	}{
		{"/v1/lan/99", http.StatusNotFound, ""},
		{"/v1/kommuner/0100", http.StatusNotFound, ""},
		{"/v1/lan/5", http.StatusBadRequest, "lan"},
		{"/v1/lan/ab", http.StatusBadRequest, "lan"},
		{"/v1/kommuner/580", http.StatusBadRequest, "kommun"},
		{"/v1/kommuner/05800", http.StatusBadRequest, "kommun"},
		{"/v1/kommuner?lan=5", http.StatusBadRequest, "lan"},
		{"/v1/kommuner?lan=02", http.StatusBadRequest, "lan"},
	} {
		rec := fetch(t, h, tc.path)
		var st status
		if rec.Code != tc.wantHTTP || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") ||
			json.Unmarshal(rec.Body.Bytes(), &st) != nil || st.Message == "" {
			t.Errorf("%s: %d %s %s", tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			continue
		}
		if tc.wantField == "" {
			continue
		}
		if len(st.Details) != 1 || st.Details[0].Type != "type.googleapis.com/google.rpc.BadRequest" ||
			len(st.Details[0].FieldViolations) != 1 || st.Details[0].FieldViolations[0].Field != tc.wantField {
			t.Errorf("%s: details %s, want a violation of %q", tc.path, rec.Body.String(), tc.wantField)
		}
	}
}

// The reference-data routes take exactly /v1/lan/{lan} and
// /v1/kommuner/{kommun}; the generated routes below them still reach
// grpc-gateway (501 from the bare backend).
func TestRefdataDoesNotShadowRoutes(t *testing.T) {
	h := bareGateway(t)
	for _, path := range []string{
		"/v1/lan/05/coverage", "/v1/lan/05/coverage:export", "/v1/lan/05/agreements", "/v1/lan/-/agreements",
		"/v1/lan/05/contacts", "/v1/lan/05/meetings", "/v1/lan/05/folkbildningReport", "/v1/lan/05/organiserContacts",
	} {
		if rec := fetch(t, h, path); rec.Code != http.StatusNotImplemented {
			t.Errorf("%s: %d %s, want 501 from the generated route", path, rec.Code, rec.Body.String())
		}
	}

	// Every generated GET route of the document under /v1/lan/ and
	// /v1/kommuner/ too.
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openapi.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	own := map[string]bool{"listLan": true, "getLan": true, "listKommuner": true, "getKommun": true, "getMeetingCalendar": true, "getActivityFeed": true}
	checked := 0
	for path, item := range doc.Paths {
		op, ok := item["get"]
		if !ok || own[op.OperationID] || !(strings.HasPrefix(path, "/v1/lan/") || strings.HasPrefix(path, "/v1/kommuner/")) {
			continue
		}
		concrete := regexp.MustCompile(`\{[a-zA-Z]+\}`).ReplaceAllStringFunc(path, func(p string) string {
			if v, ok := map[string]string{"{lan}": "05", "{kommun}": "0580"}[p]; ok {
				return v
			}
			return "x"
		})
		if rec := fetch(t, h, concrete); rec.Code != http.StatusNotImplemented {
			t.Errorf("%s (%s): %d %s, want 501 from the generated route", concrete, op.OperationID, rec.Code, rec.Body.String())
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d generated routes under /v1/lan/ checked", checked)
	}
}
