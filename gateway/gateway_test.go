package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// fakeActivity records the metadata of the calls it gets; err, when set,
// is its answer to every call.
type fakeActivity struct {
	activityv1.UnimplementedActivityServiceServer
	mu    sync.Mutex
	md    metadata.MD
	err   error
	calls atomic.Int32
}

func (f *fakeActivity) GetActivity(ctx context.Context, req *activityv1.GetActivityRequest) (*activityv1.Activity, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.md, _ = metadata.FromIncomingContext(ctx)
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if len(f.md.Get("authorization")) == 1 && f.md.Get("authorization")[0] == "Bearer bad" {
		return nil, status.Error(codes.Unauthenticated, "token signature is invalid")
	}
	return &activityv1.Activity{Name: req.GetName()}, nil
}

func (f *fakeActivity) CreateActivity(_ context.Context, req *activityv1.CreateActivityRequest) (*activityv1.Activity, error) {
	f.calls.Add(1)
	if f.md == nil {
		return nil, status.Error(codes.Unauthenticated, "a bearer token is required")
	}
	return req.GetActivity(), nil
}

func (f *fakeActivity) UpdateActivity(_ context.Context, req *activityv1.UpdateActivityRequest) (*activityv1.Activity, error) {
	f.calls.Add(1)
	return req.GetActivity(), nil
}

// fakeNotification serves the activity feed, with the base URL it was
// given in the document.
type fakeNotification struct {
	notificationv1.UnimplementedNotificationServiceServer
}

func (fakeNotification) GetActivityFeed(_ context.Context, req *notificationv1.GetActivityFeedRequest) (*notificationv1.Feed, error) {
	doc := `<feed><link rel="self" href="` + req.GetBaseUrl() + "/v1/" + req.GetKommun() + `/activities.atom"/></feed>`
	return &notificationv1.Feed{ContentType: "application/atom+xml", Data: []byte(doc)}, nil
}

// backend serves a health service (and the fake activity and notification
// services) on loopback.
func backend(t *testing.T, act *fakeActivity) (*health.Server, *grpc.Server, grpc.ClientConnInterface) {
	t.Helper()
	hs := health.NewServer()
	srv, cc := loopback(t, func(srv *grpc.Server) {
		healthpb.RegisterHealthServer(srv, hs)
		activityv1.RegisterActivityServiceServer(srv, act)
		notificationv1.RegisterNotificationServiceServer(srv, fakeNotification{})
	})
	return hs, srv, cc
}

// loopback serves a gRPC server with the services register adds on
// loopback, and returns it with a client connection to it; both end with
// the test.
func loopback(t *testing.T, register func(*grpc.Server)) (*grpc.Server, *grpc.ClientConn) {
	t.Helper()
	srv := grpc.NewServer()
	register(srv)
	return srv, testkit.Serve(t, srv)
}

// edgeFor is the gateway in front of one fake backend.
func edgeFor(t *testing.T, o Options) (http.Handler, *fakeActivity) {
	t.Helper()
	act := &fakeActivity{}
	_, _, cc := backend(t, act)
	h, err := New(context.Background(), Backends{Activity: cc, Statistics: cc, Travel: cc, Notification: cc}, o)
	if err != nil {
		t.Fatal(err)
	}
	return h, act
}

func get(t *testing.T, h http.Handler, path, token string) int {
	t.Helper()
	return edgeCall(t, h, "GET", path, token, nil).Code
}

func edgeCall(t *testing.T, h http.Handler, method, path, token string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	if token != "" {
		headers = append([]string{"Authorization", "Bearer " + token}, headers...)
	}
	return serve(h, method, path, body, headers...)
}

// serve sends a request to h, the body (if any) as JSON, with the headers
// given as name, value pairs.
func serve(h http.Handler, method, path string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// edgeErrBody is the JSON of an error answer.
type edgeErrBody struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Details []map[string]any `json:"details"`
}

func edgeError(t *testing.T, rec *httptest.ResponseRecorder) edgeErrBody {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("HTTP %d with Content-Type %q, want JSON: %s", rec.Code, ct, rec.Body)
	}
	var e edgeErrBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("HTTP %d body %q: %v", rec.Code, rec.Body, err)
	}
	return e
}

// violated lists the fields named by the body's BadRequest.
func (e edgeErrBody) violated() []string {
	var fields []string
	for _, d := range e.Details {
		vs, _ := d["fieldViolations"].([]any)
		for _, v := range vs {
			if f, ok := v.(map[string]any)["field"].(string); ok {
				fields = append(fields, f)
			}
		}
	}
	return fields
}

// requestID is the RequestInfo.requestId of the body.
func (e edgeErrBody) requestID() string {
	for _, d := range e.Details {
		if id, ok := d["requestId"].(string); ok {
			return id
		}
	}
	return ""
}

// jwt is an unsigned token with the subject sub: the edge reads the subject
// only to key its rate limit.
func unsignedJWT(sub string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"EdDSA"}`)) + "." + enc.EncodeToString([]byte(`{"sub":"`+sub+`"}`)) + ".c2ln"
}

func TestReadinessFollowsBackends(t *testing.T) {
	act := &fakeActivity{}
	hsA, _, ccA := backend(t, act)
	hsB, srvB, ccB := backend(t, &fakeActivity{})
	h, err := New(context.Background(), Backends{Activity: ccA, Statistics: ccB, Travel: ccB, Notification: ccB}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if code := get(t, h, "/readyz", ""); code != http.StatusOK {
		t.Fatalf("all up: /readyz = %d", code)
	}
	// Issue 13: one service down does not take the whole edge out of its
	// Service; the probe of that service says it.
	hsA.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if code := get(t, h, "/readyz", ""); code != http.StatusOK {
		t.Fatalf("activity not serving, the others up: /readyz = %d, want 200", code)
	}
	if code := get(t, h, "/readyz/activity", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("activity not serving: /readyz/activity = %d", code)
	}
	if code := get(t, h, "/readyz/travel", ""); code != http.StatusOK {
		t.Fatalf("/readyz/travel = %d", code)
	}
	hsB.SetServingStatus(statisticsv1.StatisticsService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	if code := get(t, h, "/readyz/statistics", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("statistics not serving by name: /readyz/statistics = %d", code)
	}
	if code := get(t, h, "/readyz/nope", ""); code != http.StatusNotFound {
		t.Fatalf("/readyz/nope = %d", code)
	}
	hsA.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	srvB.Stop()
	if code := get(t, h, "/readyz", ""); code != http.StatusOK {
		t.Fatalf("activity up, the rest down: /readyz = %d, want 200", code)
	}
	// The routes of a down service answer 503 with Retry-After, scrubbed.
	rec := edgeCall(t, h, "GET", "/v1/snapshots/2026-03-31", "", nil)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("route of a down service: HTTP %d, Retry-After %q: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if strings.Contains(rec.Body.String(), "127.0.0.1") {
		t.Fatalf("503 body shows an internal address: %s", rec.Body)
	}
	hsA.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	rec = edgeCall(t, h, "GET", "/readyz", "", nil)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "[-]activity") {
		t.Fatalf("nothing serving: /readyz = %d %s", rec.Code, rec.Body)
	}
	if code := get(t, h, "/healthz", ""); code != http.StatusOK {
		t.Fatalf("/healthz = %d while a backend is down; liveness must not depend on it", code)
	}
}

func TestBearerTokenReachesService(t *testing.T) {
	h, act := edgeFor(t, Options{})
	if code := get(t, h, "/v1/organisers/8020038884/activities/a1", "tok"); code != http.StatusOK {
		t.Fatalf("GET = %d", code)
	}
	if got := act.md.Get("authorization"); len(got) != 1 || got[0] != "Bearer tok" {
		t.Fatalf("authorization metadata = %v", got)
	}
	if code := get(t, h, "/openapi.json", ""); code != http.StatusOK {
		t.Fatalf("/openapi.json = %d", code)
	}
}

// TestPanicIsA500 (issue 11.2): a handler that panics gets a JSON 500 with
// the trace id; the stack goes to the log only.
func TestPanicIsA500(t *testing.T) {
	var logs bytes.Buffer
	e := newEdge(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	mux := runtime.NewServeMux(runtime.WithMiddlewares(e.routeMiddleware), runtime.WithRoutingErrorHandler(e.routingError))
	root := http.NewServeMux()
	root.Handle("/", mux)
	root.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("index out of range [3] with length 3") })
	if err := mux.HandlePath("GET", "/v1/{name=boom/*}", func(http.ResponseWriter, *http.Request, map[string]string) {
		var m map[string]int
		m["x"] = 1 // a nil map: a real runtime panic
	}); err != nil {
		t.Fatal(err)
	}
	e.handle(mux, root)
	srv := httptest.NewServer(e)
	defer srv.Close()
	for _, path := range []string{"/boom", "/v1/boom/1"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("%s: %v (the connection must not drop)", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("%s: HTTP %d %s", path, resp.StatusCode, body)
		}
		var eb edgeErrBody
		if err := json.Unmarshal(body, &eb); err != nil || eb.Code != int(codes.Internal) || eb.Message != "internal error" {
			t.Fatalf("%s: body %s (%v)", path, body, err)
		}
		id := resp.Header.Get("X-Request-Id")
		if id == "" || eb.requestID() != id {
			t.Fatalf("%s: X-Request-Id %q, body's request id %q", path, id, eb.requestID())
		}
		if strings.Contains(string(body), "goroutine") || strings.Contains(string(body), ".go:") {
			t.Fatalf("%s: the stack reached the client: %s", path, body)
		}
		if !strings.Contains(logs.String(), "trace_id="+id) || !strings.Contains(logs.String(), "goroutine") {
			t.Fatalf("%s: the log lacks the stack or the trace id:\n%s", path, logs.String())
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: a 500 without the security headers", path)
		}
	}
}

// TestInvalidUTF8IsA400 (issue 11.2): bytes that are not UTF-8 in a path,
// a query or a JSON body are the client's mistake, named.
func TestInvalidUTF8IsA400(t *testing.T) {
	h, act := edgeFor(t, Options{})
	cases := []struct {
		method, path, body string
		field              string
	}{
		{"GET", "/v1/organisers/8020038884/activities/%ff%fe", "", "name"},
		{"PATCH", "/v1/organisers/8020038884/activities/%ff%fe", `{"title":"x"}`, "activity.name"},
		{"GET", "/v1/organisers/-/activities?filter=%ff", "", "filter"},
		{"GET", "/v1/organisers/-/activities?page%ffSize=1", "", "page%ffSize"},
		{"GET", "/v1/organisers/-/activities?pageSize=%zz", "", "pageSize"},
		{"GET", "/v1/lan/%ff/meetings.ics", "", "lan"},
		{"GET", "/v1/kommuner/01%c3/activities.atom", "", "kommun"},
	}
	for _, c := range cases {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		rec := edgeCall(t, h, c.method, c.path, "tok", body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s %s: HTTP %d %s, want 400", c.method, c.path, rec.Code, rec.Body)
			continue
		}
		if e := edgeError(t, rec); len(e.violated()) != 1 || e.violated()[0] != c.field {
			t.Errorf("%s %s: fields %v, want %q (%s)", c.method, c.path, e.violated(), c.field, rec.Body)
		}
	}
	if n := act.calls.Load(); n != 0 {
		t.Fatalf("the service got %d calls with invalid UTF-8", n)
	}
	// Invalid UTF-8 inside a JSON string of the body.
	rec := edgeCall(t, h, "POST", "/v1/organisers/8020038884/activities", "tok", strings.NewReader("{\"title\":\"Svenska \xff\xfe\"}"))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("invalid UTF-8 in a body: HTTP %d %s", rec.Code, rec.Body)
	}
	edgeError(t, rec)
}

// TestWrongMethodIs405 (issue 11.2): a path that exists answers another
// method with 405 and the methods it has; an unknown path is a JSON 404.
func TestWrongMethodIs405(t *testing.T) {
	h, _ := edgeFor(t, Options{})
	cases := []struct {
		method, path string
		allow        string
	}{
		{"DELETE", "/v1/organisers/8020038884/activities/a1", "GET, PATCH"},
		{"PUT", "/v1/organisers/8020038884/activities", "GET, POST"},
		{"GET", "/v1/snapshots:importCells", "POST"},
		{"POST", "/healthz", "GET, HEAD"},
		{"DELETE", "/v1/kommuner/0180/activities.atom", "GET, HEAD"},
	}
	for _, c := range cases {
		rec := edgeCall(t, h, c.method, c.path, "", nil)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: HTTP %d Allow %q, want 405 Allow %q (%s)", c.method, c.path, rec.Code, rec.Header().Get("Allow"), c.allow, rec.Body)
			continue
		}
		edgeError(t, rec)
	}
	rec := edgeCall(t, h, "GET", "/v1/no/such/thing/here", "", nil)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unknown path: HTTP %d %s", rec.Code, rec.Body)
	}
	if e := edgeError(t, rec); e.Code != int(codes.NotFound) {
		t.Fatalf("unknown path: %+v", e)
	}
}

// bodyCounter fails the test if the edge reads a body it should refuse.
type bodyCounter struct {
	n    atomic.Int64
	size int64
}

func (c *bodyCounter) Read(p []byte) (int, error) {
	if c.n.Load() >= c.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), c.size-c.n.Load())
	for i := range n {
		p[i] = ' '
	}
	c.n.Add(n)
	return int(n), nil
}

// TestBodyLimits (issue 11.3): bodies are capped per route before anything
// reads them; imports have their own, larger limit.
func TestBodyLimits(t *testing.T) {
	h, act := edgeFor(t, Options{MaxBodyBytes: 1024, MaxImportBytes: 8192})
	create := "/v1/organisers/8020038884/activities"
	big := `{"title":"` + strings.Repeat("x", 2000) + `"}`

	// Declared too long: refused before a byte is read.
	body := &bodyCounter{size: 50 << 20}
	req := httptest.NewRequest("POST", create, body)
	req.ContentLength = 50 << 20
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || body.n.Load() != 0 {
		t.Fatalf("declared 50 MB: HTTP %d after reading %d bytes", rec.Code, body.n.Load())
	}
	if e := edgeError(t, rec); !strings.Contains(e.Message, "1024 bytes") {
		t.Fatalf("413 does not name the limit: %+v", e)
	}

	// Not declared (chunked): read up to the limit only.
	body = &bodyCounter{size: 50 << 20}
	req = httptest.NewRequest("POST", create, body)
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || body.n.Load() > 64<<10 {
		t.Fatalf("chunked 50 MB: HTTP %d after reading %d bytes: %s", rec.Code, body.n.Load(), rec.Body)
	}
	edgeError(t, rec)

	rec = edgeCall(t, h, "POST", create, "tok", strings.NewReader(big))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 kB JSON body: HTTP %d %s", rec.Code, rec.Body)
	}
	if n := act.calls.Load(); n != 0 {
		t.Fatalf("the service got %d calls with too long bodies", n)
	}
	// An import may be longer, up to its own limit.
	imp := "/v1/snapshots/2026-03-31:import"
	if rec := edgeCall(t, h, "POST", imp, "tok", strings.NewReader(big)); rec.Code == http.StatusRequestEntityTooLarge {
		t.Fatalf("2 kB import: HTTP 413 %s", rec.Body)
	}
	huge := `{"cells":[` + strings.Repeat(`{"count":"1"},`, 1000) + `{}]}`
	if rec := edgeCall(t, h, "POST", imp, "tok", strings.NewReader(huge)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("14 kB import: HTTP %d %s", rec.Code, rec.Body)
	}
}

// TestRateLimit (issue 11.3): a caller over its rate gets 429 with
// Retry-After; other callers and the probes do not notice.
func TestRateLimit(t *testing.T) {
	h, _ := edgeFor(t, Options{RateLimit: 1, RateBurst: 3})
	path := "/v1/organisers/8020038884/activities/a1"
	for i := range 3 {
		if code := get(t, h, path, unsignedJWT("organiser-1")); code != http.StatusOK {
			t.Fatalf("call %d within the burst: HTTP %d", i, code)
		}
	}
	rec := edgeCall(t, h, "GET", path, unsignedJWT("organiser-1"), nil)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("over the burst: HTTP %d", rec.Code)
	}
	if ra, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || ra < 1 {
		t.Fatalf("Retry-After = %q", rec.Header().Get("Retry-After"))
	}
	if e := edgeError(t, rec); e.Code != int(codes.ResourceExhausted) {
		t.Fatalf("429 body: %+v", e)
	}
	// Another subject, the same address: its own bucket.
	if code := get(t, h, path, unsignedJWT("organiser-2")); code != http.StatusOK {
		t.Fatalf("another caller: HTTP %d", code)
	}
	// Anonymous callers are keyed by address.
	for range 3 {
		get(t, h, path, "")
	}
	if code := get(t, h, path, ""); code != http.StatusTooManyRequests {
		t.Fatalf("anonymous caller over the burst: HTTP %d", code)
	}
	if code := get(t, h, "/healthz", ""); code != http.StatusOK {
		t.Fatalf("/healthz throttled: HTTP %d", code)
	}
	// Off by default.
	free, _ := edgeFor(t, Options{})
	for i := range 300 {
		if code := get(t, free, path, unsignedJWT("x")); code != http.StatusOK {
			t.Fatalf("no limit configured, call %d: HTTP %d", i, code)
		}
	}
}

// TestRateLimitMemoryIsBounded: idle buckets go once they would be full
// again, and a flood of callers cannot grow the table past its cap.
func TestRateLimitMemoryIsBounded(t *testing.T) {
	l := newCallerLimits(10, 20, 1000)
	now := time.Unix(1_800_000_000, 0)
	l.now = func() time.Time { return now }
	for i := range 5000 {
		var k [16]byte
		copy(k[:], strconv.Itoa(i))
		if ok, _ := l.allow(k); !ok {
			t.Fatalf("first call of caller %d refused", i)
		}
		if l.size() > 1000 {
			t.Fatalf("%d buckets kept, cap 1000", l.size())
		}
	}
	now = now.Add(3 * time.Second) // 20 tokens at 10/s refill in 2 s
	var k [16]byte
	l.allow(k)
	if n := l.size(); n != 1 {
		t.Fatalf("after everyone was idle: %d buckets kept, want 1", n)
	}
	// A caller that was refused keeps its debt while it is not idle.
	for range 20 {
		l.allow(k)
	}
	if ok, wait := l.allow(k); ok || wait <= 0 {
		t.Fatalf("21st call at once: ok=%v wait=%s", ok, wait)
	}
}

// TestSecurityHeaders (issue 11.7): every answer says nosniff and denies
// framing; personal or authenticated answers are not stored; CORS is
// closed unless an origin is configured.
func TestSecurityHeaders(t *testing.T) {
	h, _ := edgeFor(t, Options{})
	for _, c := range []struct {
		method, path, token string
		noStore             bool
	}{
		{"GET", "/openapi.json", "", false},
		{"GET", "/v1/organisers/8020038884/activities/a1", "", false},
		{"GET", "/v1/organisers/8020038884/activities/a1", "tok", true},
		{"GET", "/v1/recipients/lansstyrelse-01/messages", "", true},
		{"GET", "/v1/organisers/8020038884/activities/a1/certificates/c1", "", true},
		{"GET", "/v1/kommuner/0180/activities.atom", "tok", true},
		{"GET", "/v1/no/such/path", "", false},
		{"GET", "/healthz", "", false},
	} {
		rec := edgeCall(t, h, c.method, c.path, c.token, nil, "Origin", "https://evil.example")
		for k, v := range securityHeaders {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s %s (HTTP %d): %s = %q, want %q", c.method, c.path, rec.Code, k, got, v)
			}
		}
		if got := rec.Header().Get("Cache-Control") == "no-store"; got != c.noStore {
			t.Errorf("%s %s token=%q: Cache-Control %q, want no-store: %v", c.method, c.path, c.token, rec.Header().Get("Cache-Control"), c.noStore)
		}
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s %s: Access-Control-Allow-Origin %q with CORS closed", c.method, c.path, got)
		}
	}
	// A preflight without configured origins gets no grant.
	rec := edgeCall(t, h, "OPTIONS", "/v1/organisers/8020038884/activities", "", nil,
		"Origin", "https://app.example.se", "Access-Control-Request-Method", "POST")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight granted with CORS closed: %v", rec.Header())
	}

	open, _ := edgeFor(t, Options{CORSOrigins: []string{"https://app.example.se"}})
	rec = edgeCall(t, open, "OPTIONS", "/v1/organisers/8020038884/activities", "", nil,
		"Origin", "https://app.example.se", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	if rec.Code >= 300 || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.se" ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight from an allowed origin: HTTP %d %v", rec.Code, rec.Header())
	}
	rec = edgeCall(t, open, "GET", "/v1/organisers/8020038884/activities/a1", "", nil, "Origin", "https://app.example.se")
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.se" {
		t.Fatalf("GET from an allowed origin: HTTP %d %v", rec.Code, rec.Header())
	}
	rec = edgeCall(t, open, "GET", "/v1/organisers/8020038884/activities/a1", "", nil, "Origin", "https://evil.example")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("GET from another origin got %q", rec.Header().Get("Access-Control-Allow-Origin"))
	}
}

// TestFeedLinksFromConfiguredBase (issue 11.7): a poisoned Host or
// X-Forwarded-Host never reaches a feed's links.
func TestFeedLinksFromConfiguredBase(t *testing.T) {
	h, _ := edgeFor(t, Options{PublicBaseURL: "https://tia.example.se/"})
	req := httptest.NewRequest("GET", "/v1/kommuner/0180/activities.atom", nil)
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil2.example")
	req.Header.Set("X-Forwarded-Proto", "gopher")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `href="https://tia.example.se/v1/kommuner/0180/activities.atom"`) {
		t.Fatalf("feed: HTTP %d %s", rec.Code, body)
	}
	if strings.Contains(body, "evil") || strings.Contains(body, "gopher") {
		t.Fatalf("a request header reached the feed: %s", body)
	}
}

// TestWWWAuthenticate (issue 14.5): a 401 says what RFC 6750 asks.
func TestWWWAuthenticate(t *testing.T) {
	h, _ := edgeFor(t, Options{})
	rec := edgeCall(t, h, "POST", "/v1/organisers/8020038884/activities", "", strings.NewReader(`{"title":"x"}`))
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != `Bearer realm="tia"` {
		t.Fatalf("no token: HTTP %d WWW-Authenticate %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	rec = edgeCall(t, h, "GET", "/v1/organisers/8020038884/activities/a1", "bad", nil)
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != `Bearer realm="tia", error="invalid_token"` {
		t.Fatalf("bad token: HTTP %d WWW-Authenticate %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// TestInternalErrorsAreScrubbed (issue 13.3): what a service's internal
// failure says stays in the log, with the trace id the client gets.
func TestInternalErrorsAreScrubbed(t *testing.T) {
	var logs testkit.LogBuffer
	h, act := edgeFor(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	secrets := []string{"postgres", "10.1.2.3", "5432", "SQLSTATE", "activity-db"}
	for _, c := range []struct {
		err  error
		http int
	}{
		{status.Error(codes.Unavailable, `failed to connect to host=10.1.2.3 user=postgres database=activity-db: dial tcp 10.1.2.3:5432: connect: connection refused`), http.StatusServiceUnavailable},
		{status.Error(codes.Unknown, `ERROR: duplicate key value violates unique constraint (SQLSTATE 23505) at postgres://10.1.2.3:5432/activity-db`), http.StatusInternalServerError},
		{status.Error(codes.Internal, `pq: password authentication failed for user "postgres" at 10.1.2.3:5432`), http.StatusInternalServerError},
		{status.Error(codes.DeadlineExceeded, `context deadline exceeded waiting for 10.1.2.3:5432 (activity-db)`), http.StatusGatewayTimeout},
	} {
		act.mu.Lock()
		act.err = c.err
		act.mu.Unlock()
		rec := edgeCall(t, h, "GET", "/v1/organisers/8020038884/activities/a1", "tok", nil)
		if rec.Code != c.http {
			t.Errorf("%v: HTTP %d, want %d", c.err, rec.Code, c.http)
		}
		for _, s := range secrets {
			if strings.Contains(rec.Body.String(), s) {
				t.Errorf("%v: the body shows %q: %s", c.err, s, rec.Body)
			}
		}
		id := rec.Header().Get("X-Request-Id")
		if e := edgeError(t, rec); e.requestID() != id || id == "" {
			t.Errorf("%v: body's request id %q, X-Request-Id %q", c.err, e.requestID(), id)
		}
		if c.http == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
		if l := logs.String(); !strings.Contains(l, "trace_id="+id) || !strings.Contains(l, "10.1.2.3") {
			t.Errorf("%v: the log lacks the original with the trace id:\n%s", c.err, l)
		}
	}
	// Other codes keep the service's words.
	act.mu.Lock()
	act.err = status.Error(codes.NotFound, "organisers/8020038884/activities/a1 not found")
	act.mu.Unlock()
	rec := edgeCall(t, h, "GET", "/v1/organisers/8020038884/activities/a1", "tok", nil)
	if e := edgeError(t, rec); rec.Code != http.StatusNotFound || !strings.Contains(e.Message, "a1 not found") {
		t.Fatalf("not found: HTTP %d %+v", rec.Code, e)
	}
}

// TestRequestLogAndRouteMetrics (issue 13.3, 13.5): one log line per
// request with the route's template, never the path with its ids; the
// trace id goes back to the client; the RED metrics are per route.
func TestRequestLogAndRouteMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	t.Cleanup(func() { otel.SetMeterProvider(prev) })

	var logs testkit.LogBuffer
	h, _ := edgeFor(t, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	const dossier = "12-345678"
	rec := edgeCall(t, h, "GET", "/v1/organisers/8020038884/activities/"+dossier, "tok", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET: HTTP %d", rec.Code)
	}
	id := rec.Header().Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) ||
		!regexp.MustCompile(`^00-`+id+`-[0-9a-f]{16}-0[01]$`).MatchString(rec.Header().Get("Traceparent")) {
		t.Fatalf("X-Request-Id %q, traceparent %q", id, rec.Header().Get("Traceparent"))
	}
	edgeCall(t, h, "GET", "/v1/kommuner/0180/activities.atom", "", nil)
	edgeCall(t, h, "GET", "/v1/nothing/"+dossier, "", nil)

	var lines []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d request lines, want 3:\n%s", len(lines), logs.String())
	}
	want := []struct {
		route  string
		status float64
	}{{"/v1/{name=organisers/*/activities/*}", 200}, {"/v1/kommuner/{kommun}/activities.atom", 200}, {"", 404}}
	for i, w := range want {
		l := lines[i]
		if l["route"] != w.route || l["status"] != w.status || l["method"] != "GET" || l["duration"] == nil || l["trace_id"] == "" {
			t.Errorf("line %d = %v, want route %q status %v", i, l, w.route, w.status)
		}
	}
	if lines[0]["trace_id"] != id {
		t.Errorf("the log's trace id %v is not the client's %q", lines[0]["trace_id"], id)
	}
	if strings.Contains(logs.String(), dossier) {
		t.Fatalf("the log shows a dossier number:\n%s", logs.String())
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.server.request.duration" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				r, _ := dp.Attributes.Value("http.route")
				routes[r.AsString()] = true
			}
		}
	}
	if !routes["/v1/{name=organisers/*/activities/*}"] || !routes["/v1/kommuner/{kommun}/activities.atom"] || routes["/"] {
		t.Fatalf("http.route labels %v", routes)
	}
	for r := range routes {
		if strings.Contains(r, dossier) {
			t.Fatalf("a route label shows a dossier number: %v", routes)
		}
	}
}
