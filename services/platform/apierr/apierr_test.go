package apierr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var errClosed = errors.New("agreement ended")

func TestStatus(t *testing.T) {
	table := Table{Domain: "test.tia.se", Rules: []Rule{{errClosed, codes.FailedPrecondition, "AGREEMENT_ENDED"}}}
	tests := []struct {
		name     string
		err      error
		code     codes.Code
		msg      string
		reason   string
		noLeakOf string
	}{
		{"nil", nil, codes.OK, "", "", ""},
		{"shared kind", NotFound("organisers/1"), codes.NotFound, "organisers/1 not found", "NOT_FOUND", ""},
		{"wrapped kind", fmt.Errorf("store: %w", ErrAlreadyExists), codes.AlreadyExists, "store: already exists", "ALREADY_EXISTS", ""},
		{"service rule", New(errClosed, "the agreement ended on %s", "2026-01-01"), codes.FailedPrecondition, "the agreement ended on 2026-01-01", "AGREEMENT_ENDED", ""},
		{"status passes", status.Error(codes.InvalidArgument, "bad"), codes.InvalidArgument, "bad", "", ""},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, "", "DEADLINE_EXCEEDED", ""},
		{"postgres down", fmt.Errorf("failed to connect to `user=tia database=activity`: %w", syscall.ECONNREFUSED), codes.Unavailable, "", "DEPENDENCY_UNAVAILABLE", "user=tia"},
		{"admin shutdown", fmt.Errorf("query: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}), codes.Unavailable, "", "DEPENDENCY_UNAVAILABLE", "administrator"},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, codes.Unavailable, "", "DEPENDENCY_UNAVAILABLE", "dial"},
		{"anything else", errors.New(`pq: password authentication failed for user "tia" at 10.0.0.5:5432`), codes.Internal, "internal error", "", "10.0.0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := table.Status(context.Background(), tt.err)
			st := status.Convert(err)
			if st.Code() != tt.code {
				t.Fatalf("code = %v, want %v (%v)", st.Code(), tt.code, err)
			}
			if tt.msg != "" && st.Message() != tt.msg {
				t.Errorf("message = %q, want %q", st.Message(), tt.msg)
			}
			if tt.noLeakOf != "" && strings.Contains(st.Message(), tt.noLeakOf) {
				t.Errorf("message %q leaks %q", st.Message(), tt.noLeakOf)
			}
			var reason string
			var retry bool
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					reason = d.GetReason()
				case *errdetails.RetryInfo:
					retry = true
				}
			}
			if reason != tt.reason {
				t.Errorf("reason = %q, want %q", reason, tt.reason)
			}
			if tt.code == codes.Unavailable && !retry {
				t.Errorf("UNAVAILABLE without RetryInfo")
			}
		})
	}
}
