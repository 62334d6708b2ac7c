package embedded

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tia-platform/tia/services/embedded/resttest"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/telemetry"
)

// spans records every span of the test binary: the trace test reads it.
var spans = tracetest.NewSpanRecorder()

func TestMain(m *testing.M) {
	tel, err := telemetry.Setup(context.Background(), "tia-test", telemetry.WithSpanProcessor(spans))
	if err != nil {
		panic(err)
	}
	code := m.Run()
	_ = tel.Shutdown(context.Background())
	os.Exit(code)
}

func start(t *testing.T) *Platform {
	t.Helper()
	p, err := Start(context.Background(), Options{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// client calls the REST edge as one actor.
type client struct{ resttest.Client }

func (p *Platform) as(t *testing.T, pr *auth.Principal) client {
	return client{resttest.As(t, "http://"+p.HTTPAddr, p.Token, pr)}
}

// ownCertificates lists the certificates c, an asylum seeker, holds.
func (c client) ownCertificates() []any {
	c.T.Helper()
	code, body := c.Do("GET", "/v1/organisers/-/activities/-/certificates", nil)
	if code != http.StatusOK {
		c.T.Fatalf("own certificates: HTTP %d %v", code, body)
	}
	list, _ := body["certificates"].([]any)
	return list
}

// fetch GETs path as c with an Accept header (none when empty) and returns
// the response as it came, body unread (closed with the test).
func (c client) fetch(path, accept string) *http.Response {
	c.T.Helper()
	return c.Send("GET", path, nil, "Accept", accept)
}

func activityBody(kommun string) map[string]any { return resttest.ActivityBody(kommun) }

// violatedFields lists the fields named by a 400 body's BadRequest details.
func violatedFields(body map[string]any) []string { return resttest.ViolatedFields(body) }

func TestVerticalSlice(t *testing.T) {
	p := start(t)
	org := DemoStudyAssociation
	organiser := p.as(t, &org)
	anyone := p.as(t, nil)
	stockholm := p.as(t, &DemoCountyBoard)
	skane := p.as(t, &DemoOtherCountyBoard)
	registerOrganiser(t, p, org)

	resttest.VerticalSlice(organiser.Client, anyone.Client, stockholm.Client, skane.Client, org.Org)
}

func TestErrors(t *testing.T) {
	p := start(t)
	org := DemoStudyAssociation
	organiser := p.as(t, &org)
	other := p.as(t, &DemoFolkHighSchool)
	anyone := p.as(t, nil)
	forged := client{resttest.Client{T: t, Base: "http://" + p.HTTPAddr, Token: "eyJhbGciOiJFZERTQSJ9.e30.AAAA"}}
	path := "/v1/organisers/" + org.Org + "/activities"

	with := func(change func(map[string]any)) map[string]any {
		b := activityBody("0180")
		change(b)
		return b
	}
	tests := []struct {
		name   string
		c      client
		method string
		path   string
		body   any
		code   int
		field  string
	}{
		{"unknown kommun", organiser, "POST", path, with(func(b map[string]any) { b["kommunCode"] = "9999" }), 400, "activity.kommunCode"},
		{"malformed kommun", organiser, "POST", path, with(func(b map[string]any) { b["kommunCode"] = "x" }), 400, "activity.kommunCode"},
		{"empty title", organiser, "POST", path, with(func(b map[string]any) { b["title"] = "" }), 400, "activity.title"},
		{"zero capacity", organiser, "POST", path, with(func(b map[string]any) { b["capacity"] = 0 }), 400, "activity.capacity"},
		{"negative capacity", organiser, "POST", path, with(func(b map[string]any) { b["capacity"] = -5 }), 400, "activity.capacity"},
		{"end before start", organiser, "POST", path, with(func(b map[string]any) { b["endDate"] = "2026-01-01" }), 400, "activity.endDate"},
		{"no such date", organiser, "POST", path, with(func(b map[string]any) { b["startDate"] = "2026-02-31" }), 400, "activity.startDate"},
		{"unknown JSON field", organiser, "POST", path, with(func(b map[string]any) { b["colour"] = "red" }), 400, ""},
		{"JSON of the wrong type", organiser, "POST", path, with(func(b map[string]any) { b["capacity"] = "many" }), 400, ""},
		{"bad page token", anyone, "GET", "/v1/organisers/-/activities?pageToken=xyz", nil, 400, "pageToken"},
		{"bad filter", anyone, "GET", "/v1/organisers/-/activities?filter=" + url.QueryEscape("owner = 1"), nil, 400, "filter"},
		{"no token", anyone, "POST", path, activityBody("0180"), 401, ""},
		{"forged token", forged, "POST", path, activityBody("0180"), 401, ""},
		{"forged token on a public method", forged, "GET", "/v1/organisers/-/activities", nil, 401, ""},
		{"another organiser's parent", other, "POST", path, activityBody("0180"), 403, ""},
		{"unknown activity", anyone, "GET", "/v1/organisers/" + org.Org + "/activities/nope", nil, 404, ""},
		{"unknown message", p.as(t, &DemoCountyBoard), "GET", "/v1/recipients/lansstyrelse-01/messages/nope", nil, 404, ""},
		{"unknown path", anyone, "GET", "/v1/nothing-here", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.T = t
			code, body := tt.c.Do(tt.method, tt.path, tt.body)
			if code != tt.code {
				t.Fatalf("HTTP %d %v, want %d", code, body, tt.code)
			}
			if tt.field != "" {
				if fields := violatedFields(body); !contains(fields, tt.field) {
					t.Fatalf("violations %v do not name %s (body %v)", fields, tt.field, body)
				}
			}
		})
	}
	// Nothing was stored by the failed requests.
	_, list := anyone.Do("GET", "/v1/organisers/-/activities", nil)
	if acts, _ := list["activities"].([]any); len(acts) != 0 {
		t.Fatalf("failed requests stored %v", acts)
	}
}

func TestEdgeEndpoints(t *testing.T) {
	p := start(t)
	anyone := p.as(t, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := anyone.Do("GET", path, nil); code != http.StatusOK {
			t.Errorf("%s: HTTP %d", path, code)
		}
	}
	code, doc := anyone.Do("GET", "/openapi.json", nil)
	paths, _ := doc["paths"].(map[string]any)
	if code != http.StatusOK || paths["/v1/organisers/{organiser}/activities"] == nil || paths["/v1/routes"] == nil {
		t.Fatalf("openapi: HTTP %d, paths %v", code, paths)
	}
}

func TestStatisticsAndTravel(t *testing.T) {
	p := start(t)
	mv := p.as(t, &DemoMigrationsverket)
	board := p.as(t, &DemoCountyBoard)

	cells := []map[string]any{
		{"kommunCode": "0180", "housingType": "HOUSING_TYPE_ABE", "sex": "SEX_KVINNA", "ageBand": "AGE_BAND_25_34", "count": 40},
		{"kommunCode": "0180", "housingType": "HOUSING_TYPE_EBO", "sex": "SEX_MAN", "ageBand": "AGE_BAND_18_24", "count": 60},
		{"kommunCode": "1280", "housingType": "HOUSING_TYPE_EBO", "sex": "SEX_MAN", "ageBand": "AGE_BAND_18_24", "count": 7},
	}
	if code, body := mv.Do("POST", "/v1/snapshots/2026-10-31:import", map[string]any{"cells": cells}); code != http.StatusOK || body["total"] != "107" {
		t.Fatalf("import: HTTP %d %v", code, body)
	}
	if code, _ := board.Do("POST", "/v1/snapshots/2026-10-31:import", map[string]any{"cells": cells}); code != http.StatusForbidden {
		t.Fatalf("county board import: HTTP %d, want 403", code)
	}
	// A county board reads the published figure: within ±3 of the true 100.
	code, body := board.Do("POST", "/v1/snapshots/2026-10-31:query", map[string]any{"kommunCodes": []string{"0180"}})
	if n, _ := strconv.Atoi(body["total"].(string)); code != http.StatusOK || body["perturbed"] != true || n < 97 || n > 103 {
		t.Fatalf("query: HTTP %d %v", code, body)
	}

	code, route := mv.Do("POST", "/v1/routes", map[string]any{
		"fromKommunCode": "2582", "toKommunCode": "2580", "validFrom": "2026-01-01", "validTo": "2026-12-31", "reason": "samråd",
	})
	if code != http.StatusOK {
		t.Fatalf("create route: HTTP %d %v", code, route)
	}
	if code, got := board.Do("GET", "/v1/"+route["name"].(string), nil); code != http.StatusOK || got["toKommunCode"] != "2580" {
		t.Fatalf("get route: HTTP %d %v", code, got)
	}
	if code, body := mv.Do("POST", "/v1/routes", map[string]any{
		"fromKommunCode": "2582", "toKommunCode": "2580", "validFrom": "2026-12-31", "validTo": "2026-01-01",
	}); code != http.StatusBadRequest || !contains(violatedFields(body), "route.validTo") {
		t.Fatalf("route ending before it starts: HTTP %d %v", code, body)
	}
}

// TestOneTrace follows one request from the edge through the service, the
// outbox relay and the notification consumer: all spans share one trace.
func TestOneTrace(t *testing.T) {
	p := start(t)
	org := DemoStudyAssociation
	organiser := p.as(t, &org)
	registerOrganiser(t, p, org)
	code, created := organiser.Do("POST", "/v1/organisers/"+org.Org+"/activities", activityBody("0380"))
	if code != http.StatusOK {
		t.Fatalf("create: HTTP %d %v", code, created)
	}
	uppsala := auth.Principal{Subject: "uppsala", Role: auth.RoleCountyBoard, Lan: "03"}
	p.as(t, &uppsala).Inbox("lansstyrelse-03", "", 1)

	// Find the trace of the POST and the kinds of span in it.
	var traceID trace.TraceID
	for _, s := range spans.Ended() {
		// Spans are named by the route template, never the raw path (which
		// would put ids in span names): POST /v1/{parent=organisers/*}/activities.
		if s.SpanKind() == trace.SpanKindServer && strings.HasPrefix(s.Name(), "POST /v1/") && strings.Contains(s.Name(), "organisers/*}/activities") {
			traceID = s.SpanContext().TraceID()
		}
	}
	if !traceID.IsValid() {
		t.Fatal("no span for the REST request")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var kinds []string
		for _, s := range spans.Ended() {
			if s.SpanContext().TraceID() == traceID {
				kinds = append(kinds, s.SpanKind().String()+":"+s.Name())
			}
		}
		joined := strings.Join(kinds, "\n")
		if strings.Contains(joined, "server:tia.activity.v1.ActivityService/CreateActivity") &&
			strings.Contains(joined, "producer:") && strings.Contains(joined, "consumer:") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s lacks a service, relay or consumer span:\n%s", traceID, joined)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
