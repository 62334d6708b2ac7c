package travel

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/travel/internal/domain"
)

// registry asks the activity registry whether a certificate covers a trip.
type registry struct {
	peer     func(string) (grpc.ClientConnInterface, error)
	token    func(context.Context) (string, error)
	timeout  time.Duration
	attempts int
	log      *slog.Logger
}

// check returns the registry's answer, or nil while the registry cannot be
// reached (Unavailable, DeadlineExceeded, Unimplemented, or no credentials
// it accepts): the claim then waits as pending. Transient failures are
// retried with back-off, each attempt under its own deadline.
//
// The call carries the service's own token when one is configured, and
// otherwise the caller's (forwarded from the incoming request).
func (r *registry) check(ctx context.Context, c domain.Claim) *domain.RegistryAnswer {
	if r == nil || r.peer == nil {
		return nil
	}
	conn, err := r.peer("activity")
	if err != nil {
		r.log.WarnContext(ctx, "activity registry not configured", "err", err)
		return nil
	}
	bearer := ""
	if r.token != nil {
		tok, err := r.token(ctx)
		if err != nil {
			r.log.WarnContext(ctx, "service token", "err", err)
		} else if tok != "" {
			bearer = "Bearer " + tok
		}
	}
	if bearer == "" {
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get("authorization"); len(v) > 0 && strings.HasPrefix(v[0], "Bearer ") {
				bearer = v[0]
			}
		}
	}
	if bearer == "" {
		return nil // background re-check without a service token: wait
	}
	client := activityv1.NewActivityServiceClient(conn)
	req := &activityv1.CheckCertificateRequest{
		Name: c.Certificate, DossierNumber: c.Dossier, Date: c.TripDate, Activity: c.Activity,
	}
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(metadata.NewOutgoingContext(ctx, metadata.Pairs("authorization", bearer)), r.timeout)
		resp, err := client.CheckCertificate(actx, req)
		cancel()
		if err == nil {
			return &domain.RegistryAnswer{Valid: resp.GetValid(), Reasons: resp.GetReasons()}
		}
		code := status.Code(err)
		switch code {
		case codes.NotFound, codes.InvalidArgument:
			return &domain.RegistryAnswer{Reasons: []string{domain.ReasonCertificateNotFound}}
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
			if attempt >= r.attempts || ctx.Err() != nil {
				return nil
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff *= 3
		default:
			// Unimplemented, PermissionDenied, Unauthenticated, Internal:
			// not a verdict on the certificate. Wait and ask again later.
			r.log.WarnContext(ctx, "activity registry did not check the certificate", "code", code.String())
			return nil
		}
	}
}
