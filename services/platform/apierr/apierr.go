// Package apierr turns the errors a service's handlers return into gRPC
// statuses in one place per service, after etcd's toGRPCErrorMap: domain and
// store code return typed or sentinel errors, each service declares one
// Table from those errors to codes, and the host applies it to every method
// of the service. Handlers never pick a status code by hand.
//
// Errors that are already statuses (the validation and authentication
// errors of the platform, badrequest field violations) pass unchanged.
// Everything else the table does not name is classified here, for every
// service alike: a database or peer that cannot be reached is UNAVAILABLE
// (with a RetryInfo the edge turns into Retry-After), a cancelled or expired
// call keeps its code, and anything left is INTERNAL with a generic message
// and the trace id, while the original error goes to the log. No DSN, user,
// host, port, SQLSTATE or stack ever reaches a client.
package apierr

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Kinds every service shares. A service may declare its own sentinels too and
// map them in its Table; these cover the common cases so a store's "not
// found" and a domain's "not allowed" read the same everywhere.
var (
	ErrNotFound           = errors.New("not found")
	ErrAlreadyExists      = errors.New("already exists")
	ErrPermissionDenied   = errors.New("permission denied")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrAborted            = errors.New("aborted")
	ErrUnavailable        = errors.New("unavailable")
	ErrResourceExhausted  = errors.New("resource exhausted")
)

// Error is an error of a kind with a message written for the client.
type Error struct {
	// Kind is a sentinel the service's Table maps to a code.
	Kind error
	// Msg is what the client reads.
	Msg string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// New returns an error of kind whose client-facing message is the formatted
// text. errors.Is(err, kind) holds.
func New(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// NotFound is New(ErrNotFound, "%s not found", name): the AIP-193 wording
// for a resource that does not exist (or that the caller may not know of).
func NotFound(name string) error { return New(ErrNotFound, "%s not found", name) }

// Denied is New(ErrPermissionDenied, ...).
func Denied(format string, args ...any) error { return New(ErrPermissionDenied, format, args...) }

// Rule maps errors matching Err (errors.Is) to Code; Reason names the
// condition in the ErrorInfo detail (UPPER_SNAKE_CASE, AIP-193).
type Rule struct {
	Err    error
	Code   codes.Code
	Reason string
}

// Table is one service's mapping. Rules are tried in order, then the shared
// kinds above.
type Table struct {
	// Domain names the service in ErrorInfo, e.g. "activity.tia.se".
	Domain string
	Rules  []Rule
	// Log receives the errors that become INTERNAL or UNAVAILABLE.
	Log *slog.Logger
}

var shared = []Rule{
	{ErrNotFound, codes.NotFound, "NOT_FOUND"},
	{ErrAlreadyExists, codes.AlreadyExists, "ALREADY_EXISTS"},
	{ErrPermissionDenied, codes.PermissionDenied, "PERMISSION_DENIED"},
	{ErrFailedPrecondition, codes.FailedPrecondition, "FAILED_PRECONDITION"},
	{ErrAborted, codes.Aborted, "ABORTED"},
	{ErrUnavailable, codes.Unavailable, "UNAVAILABLE"},
	{ErrResourceExhausted, codes.ResourceExhausted, "RESOURCE_EXHAUSTED"},
}

// RetryAfter is the delay suggested to clients when a dependency is down.
const RetryAfter = 2 * time.Second

// Status converts err to a status error: nil stays nil, statuses pass, mapped
// errors get their code, message and ErrorInfo, unreachable dependencies
// become UNAVAILABLE and the rest INTERNAL.
func (t Table) Status(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return err
	}
	for _, rules := range [][]Rule{t.Rules, shared} {
		for _, r := range rules {
			if errors.Is(err, r.Err) {
				msg := err.Error()
				var e *Error
				if errors.As(err, &e) {
					msg = e.Msg
				}
				return t.with(codes.Code(r.Code), msg, r.Reason)
			}
		}
	}
	// A status wrapped in another error (fmt.Errorf("...: %w", st.Err())).
	if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown {
		return st.Err()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the call was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return t.with(codes.DeadlineExceeded, "the call took too long; try again", "DEADLINE_EXCEEDED")
	case Unreachable(err):
		t.log(ctx, slog.LevelWarn, "dependency unavailable", err)
		return t.unavailable(ctx)
	}
	t.log(ctx, slog.LevelError, "internal error", err)
	return status.Error(codes.Internal, "internal error"+traceSuffix(ctx))
}

func (t Table) log(ctx context.Context, lvl slog.Level, msg string, err error) {
	l := t.Log
	if l == nil {
		l = slog.Default()
	}
	l.Log(ctx, lvl, msg, "error", err.Error())
}

func (t Table) with(code codes.Code, msg, reason string) error {
	st := status.New(code, msg)
	if reason == "" {
		return st.Err()
	}
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: t.Domain}); err == nil {
		return d.Err()
	}
	return st.Err()
}

func (t Table) unavailable(ctx context.Context) error {
	st := status.New(codes.Unavailable, "the service cannot reach its database or a peer right now; try again shortly"+traceSuffix(ctx))
	d, err := st.WithDetails(
		&errdetails.ErrorInfo{Reason: "DEPENDENCY_UNAVAILABLE", Domain: t.Domain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(RetryAfter)},
	)
	if err != nil {
		return st.Err()
	}
	return d.Err()
}

func traceSuffix(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return " (trace " + sc.TraceID().String() + ")"
	}
	return ""
}

// Unreachable reports whether err means a database or peer could not be
// reached or dropped the connection, so that trying again later may work.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exception; 57P01-03: shutdown, crash, cannot
		// connect now; 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300"
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, ErrUnavailable):
		return true
	}
	if st, ok := status.FromError(err); ok && st.Code() == codes.Unavailable {
		return true
	}
	msg := err.Error()
	// SQLite reports a locked database only as text through database/sql;
	// pgx reports a closed pool and a closed connection the same way.
	for _, s := range []string{"database is locked", "SQLITE_BUSY", "closed pool", "conn closed", "connection refused", "failed to connect"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
