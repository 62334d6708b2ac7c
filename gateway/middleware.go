package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/felixge/httpsnoop"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/rs/cors"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Options configure the edge. The zero value is a closed edge with default
// limits and no rate limit.
type Options struct {
	// PublicBaseURL is the edge's address as clients reach it
	// (https://tia.example.se), for the absolute links of the feeds. It is
	// never taken from a request's Host header, which any client can set.
	PublicBaseURL string
	// MaxBodyBytes caps a request body (1 MiB when 0); imports have their
	// own MaxImportBytes (256 MiB when 0, as the statistics service's
	// TIA_STATISTICS_MAX_IMPORT_BYTES).
	MaxBodyBytes   int64
	MaxImportBytes int64
	// RateLimit is the requests per second a caller (its token's subject,
	// else its address) may make on average, RateBurst how many at once;
	// no limit when RateLimit is 0.
	RateLimit float64
	RateBurst int
	// MaxCallers bounds how many callers' rate buckets are kept (100,000
	// when 0).
	MaxCallers int
	// CORSOrigins are the browser origins allowed to call the API
	// (https://app.example.se); none when empty.
	CORSOrigins []string
	// Logger gets one line per request and the details hidden from clients;
	// nothing is logged when nil.
	Logger *slog.Logger
}

const (
	defaultMaxBody   = 1 << 20
	defaultMaxImport = 256 << 20
)

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = defaultMaxBody
	}
	if o.MaxImportBytes <= 0 {
		o.MaxImportBytes = defaultMaxImport
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// reqInfo is what the edge learns about a request on its way through, kept
// in its context.
type reqInfo struct {
	traceID     string
	traceparent string
	log         *slog.Logger
	// route is the template of the generated route that matched
	// (routeMiddleware), empty for the edge's own routes and unknown paths.
	route    string
	tooLarge atomic.Int64 // the body limit that was exceeded, 0 if none
}

type reqInfoKey struct{}

// requestInfo is the edge's record of the request of ctx; an empty one
// outside a request.
func requestInfo(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

func (ri *reqInfo) logger() *slog.Logger {
	if ri.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return ri.log
}

func (ri *reqInfo) routeTemplate() string { return ri.route }

// TraceID is the id of the request of ctx as the client got it in
// X-Request-Id (the OpenTelemetry trace id), "" outside a request.
func TraceID(ctx context.Context) string { return requestInfo(ctx).traceID }

// newReqInfo takes the trace id from the request's span (otelhttp), or
// makes one when tracing is off, so that every answer can be found in the
// log.
func newReqInfo(ctx context.Context, log *slog.Logger) *reqInfo {
	sc := trace.SpanContextFromContext(ctx)
	if sc.IsValid() {
		return &reqInfo{
			traceID:     sc.TraceID().String(),
			traceparent: "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String(),
			log:         log,
		}
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	id, span := hex.EncodeToString(b[:16]), hex.EncodeToString(b[16:])
	return &reqInfo{traceID: id, traceparent: "00-" + id + "-" + span + "-00", log: log}
}

// edge is the handler around everything the gateway serves: it tags the
// request with its trace id, sets the security headers, recovers panics,
// refuses what is over a limit or not UTF-8 before anything reads it, and
// logs one line per request with its route template.
type edge struct {
	o      Options
	limits *callerLimits
	cors   *cors.Cors
	mux    *runtime.ServeMux // for errors in the mux's shape
	root   *http.ServeMux    // for the methods of the edge's own routes
	next   http.Handler
}

func newEdge(o Options) *edge {
	o = o.withDefaults()
	return &edge{
		o:      o,
		limits: newCallerLimits(o.RateLimit, o.RateBurst, o.MaxCallers),
		cors:   corsHandler(o.CORSOrigins),
	}
}

// handle sets what the edge serves once the mux and the root are built.
func (e *edge) handle(mux *runtime.ServeMux, root *http.ServeMux) {
	e.mux, e.root = mux, root
	e.next = root
	if e.cors != nil {
		e.next = e.cors.Handler(root)
	}
}

// probePath reports the routes of probes: never rate limited, logged only
// at debug level.
func probePath(path string) bool {
	return path == "/healthz" || path == "/readyz" || strings.HasPrefix(path, "/readyz/")
}

func (e *edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	outer := r
	info := newReqInfo(r.Context(), e.o.Logger)
	ctx, cancel := context.WithCancel(context.WithValue(r.Context(), reqInfoKey{}, info))
	defer cancel()
	r = r.WithContext(ctx)

	h := w.Header()
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
	h.Set("X-Request-Id", info.traceID)
	h.Set("Traceparent", info.traceparent)
	g := &guard{e: e, w: w, r: r, info: info, noStore: noStore(r)}
	ww := httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc { return g.writeHeader },
		Write:       func(httpsnoop.WriteFunc) httpsnoop.WriteFunc { return g.write },
		Flush: func(next httpsnoop.FlushFunc) httpsnoop.FlushFunc {
			return func() {
				if !g.swallow {
					next()
				}
			}
		},
		ReadFrom: func(httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
			return func(src io.Reader) (int64, error) { return io.Copy(writerFunc(g.write), src) }
		},
	})

	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared as net/http does
				panic(p)
			}
			info.logger().ErrorContext(ctx, "panic serving a request", "panic", fmt.Sprint(p), "trace_id", info.traceID,
				"method", r.Method, "route", routeOf(r, info), "stack", string(debug.Stack()))
			g.internalError()
		}
		route := routeOf(r, info)
		outer.Pattern = route // otelhttp labels its metrics and span with it
		level := slog.LevelInfo
		if probePath(r.URL.Path) {
			level = slog.LevelDebug
		}
		info.logger().LogAttrs(ctx, level, "request",
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", g.code()),
			slog.Duration("duration", time.Since(start)), slog.String("trace_id", info.traceID))
	}()

	if e.limits != nil && !probePath(r.URL.Path) {
		if ok, wait := e.limits.allow(callerKey(r)); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			ww.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			st := status.New(codes.ResourceExhausted, "too many requests; slow down")
			if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(max(secs, 1)) * time.Second)}); err == nil {
				st = d
			}
			e.fail(ww, r, http.StatusTooManyRequests, st)
			return
		}
	}
	if name, bad := badQuery(r.URL.RawQuery); bad {
		e.fail(ww, r, http.StatusBadRequest, fieldViolation(name, "the query parameter "+strconv.Quote(name)+" is not valid percent-encoded UTF-8"))
		return
	}
	limit := e.o.MaxBodyBytes
	if isImport(r) {
		limit = e.o.MaxImportBytes
	}
	if r.ContentLength > limit {
		info.tooLarge.Store(limit)
		e.fail(ww, r, http.StatusRequestEntityTooLarge, tooLargeStatus(limit))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &bodyGuard{ReadCloser: http.MaxBytesReader(w, r.Body, limit), exceeded: func() {
			info.tooLarge.Store(limit)
			// A streamed import ends with a cancelled call, not with a
			// half-read file that the service would take as complete.
			cancel()
		}}
	}
	e.next.ServeHTTP(ww, r)
}

// routeOf is the route template of r: the generated route that matched, or
// the edge's own pattern ("/healthz"), or "" for a path nothing serves.
func routeOf(r *http.Request, info *reqInfo) string {
	if info.route != "" {
		return info.route
	}
	p := r.Pattern
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = p[i+1:] // "GET /healthz"
	}
	if p == "/" {
		return ""
	}
	return p
}

// fail writes an error in the shape of the mux's errors (the error handler
// of errors.go).
func (e *edge) fail(w http.ResponseWriter, r *http.Request, code int, st *status.Status) {
	_, m := runtime.MarshalerForRequest(e.mux, r)
	runtime.HTTPError(r.Context(), e.mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: code, Err: st.Err()})
}

func fieldViolation(field, msg string) *status.Status {
	st := status.New(codes.InvalidArgument, msg)
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: field, Description: "must be valid UTF-8, percent-encoded"},
	}}); err == nil {
		return d
	}
	return st
}

func tooLargeStatus(limit int64) *status.Status {
	return status.New(codes.InvalidArgument, fmt.Sprintf("the request body is larger than the limit of %d bytes (%s) for this route", limit, humanBytes(limit)))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// badQuery finds the first query parameter whose name or value is not
// valid percent-encoding of UTF-8, and names it as the client wrote it.
func badQuery(raw string) (string, bool) {
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil || !utf8.ValidString(name) {
			return strings.ToValidUTF8(k, "\uFFFD"), true
		}
		val, err := url.QueryUnescape(v)
		if err != nil || !utf8.ValidString(val) {
			return name, true
		}
	}
	return "", false
}

// isImport reports the routes that take whole files: the snapshot imports
// (`snapshots/*:import`, `snapshots:importPersons`, `snapshots:importCells`,
// JSON, NDJSON or text/csv).
func isImport(r *http.Request) bool {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/v1/snapshots") {
		return false
	}
	_, verb, ok := strings.Cut(p[strings.LastIndexByte(p, '/')+1:], ":")
	return ok && strings.HasPrefix(verb, "import")
}

// bodyGuard notes when the body limit is reached.
type bodyGuard struct {
	io.ReadCloser
	exceeded func()
}

func (b *bodyGuard) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if tooLarge := (*http.MaxBytesError)(nil); err != nil && errors.As(err, &tooLarge) {
		b.exceeded()
	}
	return n, err
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// guard sees the status before it is sent: it adds the headers a status
// needs (no-store, WWW-Authenticate, Retry-After) and turns whatever a
// handler made of an over-long body (a decoding error, a cancelled stream)
// into the 413 it is.
type guard struct {
	e       *edge
	w       http.ResponseWriter
	r       *http.Request
	info    *reqInfo
	noStore bool

	status  int
	swallow bool // the handler's answer is replaced; drop what it writes
}

func (g *guard) code() int {
	if g.status == 0 {
		return http.StatusOK // nothing written: net/http sends 200
	}
	return g.status
}

func (g *guard) writeHeader(code int) {
	if g.status != 0 {
		return
	}
	if limit := g.info.tooLarge.Load(); limit > 0 && code >= 400 && code != http.StatusRequestEntityTooLarge {
		g.status = http.StatusRequestEntityTooLarge
		g.swallow = true
		h := g.w.Header()
		h.Del("Content-Length")
		g.prepare(http.StatusRequestEntityTooLarge)
		_, m := runtime.MarshalerForRequest(g.e.mux, g.r)
		runtime.HTTPError(context.WithoutCancel(g.r.Context()), g.e.mux, m, g.w, g.r,
			&runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge, Err: tooLargeStatus(limit).Err()})
		return
	}
	g.status = code
	g.prepare(code)
	g.w.WriteHeader(code)
}

func (g *guard) write(b []byte) (int, error) {
	if g.status == 0 {
		g.writeHeader(http.StatusOK)
	}
	if g.swallow {
		return len(b), nil
	}
	return g.w.Write(b)
}

func (g *guard) prepare(code int) {
	h := g.w.Header()
	if g.noStore {
		h.Set("Cache-Control", "no-store")
	}
	switch code {
	case http.StatusUnauthorized:
		// grpc-gateway puts the status message here, which is no RFC 6750
		// challenge.
		h.Set("WWW-Authenticate", wwwAuthenticate(g.r))
	case http.StatusServiceUnavailable:
		if h.Get("Retry-After") == "" {
			h.Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		}
	}
}

// internalError answers a request whose handler panicked, if nothing was
// sent yet: a 500 in the shape of every error, with the trace id; the
// stack is only in the log. It writes the body itself, not through the
// error handler, which might be what panicked.
func (g *guard) internalError() {
	if g.status != 0 {
		return
	}
	st := status.New(codes.Internal, "internal error")
	if d, err := st.WithDetails(&errdetails.RequestInfo{RequestId: g.info.traceID}); err == nil {
		st = d
	}
	body, err := protojson.Marshal(st.Proto())
	if err != nil {
		body = []byte(`{"code":13,"message":"internal error"}`)
	}
	h := g.w.Header()
	for _, k := range []string{"Content-Length", "Content-Disposition", "Content-Encoding", "Etag", "Last-Modified"} {
		h.Del(k)
	}
	h.Set("Content-Type", "application/json")
	g.status = http.StatusInternalServerError
	g.prepare(g.status)
	g.w.WriteHeader(g.status)
	_, _ = g.w.Write(body)
}

// routeMiddleware runs in the mux once a generated route matched: it
// records the route's template (for the request log and the metrics),
// refuses path parameters that are not UTF-8 by their name, and answers the
// method probes of allowed.
func (e *edge) routeMiddleware(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		if p, ok := r.Context().Value(probeKey{}).(*probe); ok {
			p.matched = true
			return
		}
		if pat, ok := runtime.HTTPPattern(r.Context()); ok {
			requestInfo(r.Context()).route = pat.String()
		}
		for name, v := range pathParams {
			if !utf8.ValidString(v) {
				e.fail(w, r, http.StatusBadRequest, fieldViolation(name, "the path parameter "+strconv.Quote(name)+" is not valid percent-encoded UTF-8"))
				return
			}
		}
		next(w, r, pathParams)
	}
}

type probeKey struct{}

type probe struct{ matched bool }

// allowedMethods lists the methods that the routes of r's path answer: the
// generated routes (asked through the mux with a probe that stops in
// routeMiddleware) and the edge's own.
func (e *edge) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		p := &probe{}
		pr := &http.Request{Method: m, URL: r.URL, Proto: r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
			Header: http.Header{}, Body: http.NoBody, Host: r.Host, RemoteAddr: r.RemoteAddr, RequestURI: r.RequestURI}
		pr = pr.WithContext(context.WithValue(r.Context(), probeKey{}, p))
		if m != http.MethodHead {
			e.mux.ServeHTTP(discardWriter{}, pr)
		}
		if !p.matched {
			if _, pat := e.root.Handler(pr); pat != "" && pat != "/" {
				p.matched = true
			}
		}
		if p.matched {
			allow = append(allow, m)
		}
	}
	return allow
}

// routingError answers a request no route took: 405 with Allow when the
// path has routes for other methods, else 404, both as JSON.
func (e *edge) routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
	if _, probing := ctx.Value(probeKey{}).(*probe); probing {
		return
	}
	switch code {
	case http.StatusMethodNotAllowed, http.StatusNotFound:
		if allow := e.allowedMethods(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			st := status.Newf(codes.Unimplemented, "method %s is not allowed here; the path allows %s", r.Method, strings.Join(allow, ", "))
			runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusMethodNotAllowed, Err: st.Err()})
			return
		}
		runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusNotFound,
			Err: status.Error(codes.NotFound, "no such path")})
	default:
		runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, code)
	}
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
