package travel

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
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
	bearer := r.bearer(ctx)
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

// activeIn asks the registry whether the organiser org (its organisation
// number) is registered and has an activity not yet ended by today in one
// of kommuner. An organiser the registry does not know is not active; a
// registry that cannot be reached is ErrUnavailable (the caller may try
// again), never a guess either way.
func (r *registry) activeIn(ctx context.Context, org string, kommuner []string, today string) (bool, error) {
	if r == nil || r.peer == nil || len(kommuner) == 0 {
		return false, apierr.New(apierr.ErrUnavailable, "the activity registry cannot be asked who is active in the kommuner concerned")
	}
	conn, err := r.peer("activity")
	if err != nil {
		return false, apierr.New(apierr.ErrUnavailable, "the activity registry cannot be asked who is active in the kommuner concerned")
	}
	var in []string
	for _, k := range kommuner {
		in = append(in, fmt.Sprintf("kommun_code = %q", k))
	}
	req := &activityv1.ListActivitiesRequest{
		Parent:   domain.OrganiserName.Format(org),
		PageSize: 1,
		Filter:   fmt.Sprintf("end_date >= %q AND (%s)", today, strings.Join(in, " OR ")),
	}
	octx := ctx
	if bearer := r.bearer(ctx); bearer != "" {
		octx = metadata.NewOutgoingContext(ctx, metadata.Pairs("authorization", bearer))
	}
	octx, cancel := context.WithTimeout(octx, r.timeout)
	defer cancel()
	resp, err := activityv1.NewActivityServiceClient(conn).ListActivities(octx, req)
	switch status.Code(err) {
	case codes.OK:
		return len(resp.GetActivities()) > 0, nil
	case codes.NotFound:
		return false, nil // not a registered organiser
	default:
		r.log.WarnContext(ctx, "activity registry did not list the organiser's activities", "code", status.Code(err).String())
		return false, apierr.New(apierr.ErrUnavailable, "the activity registry cannot be asked who is active in the kommuner concerned; try again shortly")
	}
}

// bearer is the service's own token when one is configured, and otherwise
// the caller's (forwarded from the incoming request); empty without either.
func (r *registry) bearer(ctx context.Context) string {
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
	return bearer
}
