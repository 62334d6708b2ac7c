package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/cors"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The edge's answers to hostile or careless callers: what a response may
// reveal (scrub), what a browser may do with it (security headers, CORS,
// caching) and how a 401 says what is wrong (RFC 6750).

// securityHeaders are sent with every response. The web pages load only
// same-origin scripts and styles, so the policy needs no inline exception.
var securityHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
	"X-Frame-Options":         "DENY",
	"Referrer-Policy":         "no-referrer",
}

// personalSegments are path segments of routes whose answers carry personal
// data (certificates, claims, inboxes, payments, audit): never stored by a
// browser or a proxy, even when the caller sent no token.
var personalSegments = []string{
	"certificates", "claims", "recipients", "messages", "paymentRuns", "audit", "deadLetters",
	"subscriptions", "webhooks", "members",
}

// personal reports whether the path names a resource with personal data.
func personal(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		name, _, _ := strings.Cut(seg, ":")
		for _, p := range personalSegments {
			if name == p {
				return true
			}
		}
	}
	return false
}

// noStore reports whether r's answer must not be cached: it was asked with
// credentials or concerns personal data.
func noStore(r *http.Request) bool {
	return r.Header.Get("Authorization") != "" || personal(r.URL.Path)
}

// wwwAuthenticate is the RFC 6750 challenge of a 401: a request that sent
// a token learns the token was refused; one that sent none only that a
// bearer token is wanted (section 3.1: no error code then).
func wwwAuthenticate(r *http.Request) string {
	if bearerToken(r) == "" && r.Header.Get("Authorization") == "" {
		return `Bearer realm="tia"`
	}
	return `Bearer realm="tia", error="invalid_token"`
}

// bearerToken is the token of an `Authorization: Bearer …` header.
func bearerToken(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// callerKey names the caller for rate limiting: the subject of its token
// (read without verifying the signature: the services verify it; a forged
// token only earns a 401 from them), or else its network address. The key
// is hashed so that no subject (a dossier number for an asylum seeker) is
// kept in memory in clear.
func callerKey(r *http.Request) [16]byte {
	key := "addr:" + clientAddr(r)
	if sub := tokenSubject(bearerToken(r)); sub != "" {
		key = "sub:" + sub
	}
	sum := sha256.Sum256([]byte(key))
	var k [16]byte
	copy(k[:], sum[:16])
	return k
}

// tokenSubject is the `sub` claim of a JWT, "" when tok is not one.
func tokenSubject(tok string) string {
	if tok == "" || len(tok) > 16<<10 {
		return ""
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	return claims.Sub
}

// clientAddr is the host of the peer's address. Forwarded-for headers are
// not trusted: any client can write them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// corsHandler lets the listed origins call the API from a browser
// (preflight included); without origins it is nil and no response carries
// Access-Control-Allow-Origin.
func corsHandler(origins []string) *cors.Cors {
	if len(origins) == 0 {
		return nil
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "Accept-Language", "traceparent"},
		ExposedHeaders: []string{"X-Request-Id", "Traceparent", "Retry-After", "Content-Disposition", "Www-Authenticate", "Allow"},
		MaxAge:         600,
	})
}

// Internal answers: the codes whose messages come from deep inside a service
// or the network (a DSN, user, host:port, SQLSTATE, an internal address, a
// stack). The client gets a plain sentence and the trace id; the log gets
// the original with the same id.
var genericMessages = map[codes.Code]string{
	codes.Unavailable:      "the service is unavailable at the moment; try again shortly",
	codes.Internal:         "internal error",
	codes.Unknown:          "internal error",
	codes.DeadlineExceeded: "the service did not answer in time",
}

// retryAfter is what a 503 asks the client to wait.
const retryAfter = time.Second

// scrub returns st as a client may see it: for UNAVAILABLE, INTERNAL,
// UNKNOWN and DEADLINE_EXCEEDED a generic message, a RequestInfo with the
// request's trace id (and, for UNAVAILABLE, a RetryInfo) in place of the
// service's message and details, which are logged with the trace id. Other
// codes pass unchanged. A status scrubbed once is left as it is.
//
// The backend connections scrub every answer of a service (scrubbingConn);
// the error handler (errors.go, scrubStatus) calls it too for errors that
// arise in the edge itself.
func scrub(ctx context.Context, st *status.Status) *status.Status {
	generic, ok := genericMessages[st.Code()]
	if !ok || st.Message() == generic && len(st.Details()) > 0 {
		return st
	}
	info := requestInfo(ctx)
	id := info.traceID
	info.logger().WarnContext(ctx, "internal error hidden from the client",
		"code", st.Code().String(), "error", st.Message(), "trace_id", id, "route", info.routeTemplate())
	out := status.New(st.Code(), generic)
	details := []protoadapt.MessageV1{&errdetails.RequestInfo{RequestId: id}}
	if st.Code() == codes.Unavailable {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)})
	}
	if withDetails, err := out.WithDetails(details...); err == nil {
		out = withDetails
	}
	return out
}

func init() {
	// errors.go's hook: errors that arise in the edge itself have no request
	// context there; those of the services were scrubbed with it already.
	scrubStatus = func(st *status.Status) *status.Status { return scrub(context.Background(), st) }
}

// scrubbingConn scrubs the errors of every call to a service (scrub), with
// the calling request's trace id, so that no route (generated or a feed)
// can hand a service's internals to the client.
type scrubbingConn struct {
	grpc.ClientConnInterface
}

func (c scrubbingConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return scrubErr(ctx, c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...))
}

func (c scrubbingConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := c.ClientConnInterface.NewStream(ctx, desc, method, opts...)
	if err != nil {
		return nil, scrubErr(ctx, err)
	}
	return scrubbingStream{ClientStream: s, ctx: ctx}, nil
}

type scrubbingStream struct {
	grpc.ClientStream
	ctx context.Context
}

func (s scrubbingStream) SendMsg(m any) error {
	return scrubErr(s.ctx, s.ClientStream.SendMsg(m))
}

func (s scrubbingStream) RecvMsg(m any) error {
	return scrubErr(s.ctx, s.ClientStream.RecvMsg(m))
}

func scrubErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err // io.EOF and the like end a stream; they are no service's answer
	}
	if _, hidden := genericMessages[st.Code()]; !hidden {
		return err
	}
	return scrub(ctx, st).Err()
}
