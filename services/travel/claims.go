package travel

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// CreateClaim submits a claim for one trip and runs the checks.
func (s *Service) CreateClaim(ctx context.Context, req *travelv1.CreateClaimRequest) (*travelv1.Claim, error) {
	p, err := auth.Require(ctx, auth.RoleAsylumSeeker, auth.RoleMigrationsverket)
	if err != nil {
		return nil, err
	}
	in := req.GetClaim()
	if in == nil {
		return nil, badrequest.Field("claim", "required")
	}
	c := claimFromProto(in)
	if p.Role == auth.RoleAsylumSeeker {
		if c.Dossier == "" {
			c.Dossier = p.Dossier
		} else if d, ok := domain.ParseDossier(c.Dossier); ok && d != p.Dossier {
			return nil, status.Error(codes.PermissionDenied, "an asylum seeker may only claim for their own dossier")
		}
	}
	if err := c.Normalize(s.today()); err != nil {
		return nil, badrequest.Prefix("claim", err)
	}
	c.RequestID = req.GetRequestId()
	if c.RequestID != "" {
		prev, err := s.store.ClaimByRequest(ctx, c.Dossier, c.RequestID)
		if err == nil {
			return claimToProto(prev, p), nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	c.ID = uuid.Must(uuid.NewV7()).String()
	c.SubmitTime = s.now().UTC()
	if err := s.evaluate(ctx, &c); err != nil {
		return nil, err
	}
	err = s.store.InsertClaim(ctx, c, func(tx *sqlx.Tx) error { return s.publishDecided(ctx, tx, c) })
	if errors.Is(err, store.ErrExists) {
		prev, err := s.store.ClaimByRequest(ctx, c.Dossier, c.RequestID)
		if err != nil {
			return nil, err
		}
		return claimToProto(prev, p), nil
	}
	if err != nil {
		return nil, err
	}
	s.notify()
	return claimToProto(c, p), nil
}

// evaluate runs every check on c and sets its state and reasons.
func (s *Service) evaluate(ctx context.Context, c *domain.Claim) error {
	f, err := s.store.Facts(ctx, *c)
	if err != nil {
		return err
	}
	f.Submitted = c.SubmitTime.UTC().Format(domain.DateLayout)
	f.Registry = s.registry.check(ctx, *c)
	c.State, c.Reasons = domain.Check(*c, f, s.opts.Rules)
	if c.State == domain.StateApproved {
		c.DecideTime = s.now().UTC()
	}
	return nil
}

// publishDecided publishes ClaimDecided for a claim that left PENDING.
func (s *Service) publishDecided(ctx context.Context, tx *sqlx.Tx, c domain.Claim) error {
	if c.State == domain.StatePending {
		return nil
	}
	_, err := events.Publish(ctx, tx, SubjectClaimDecided, &travelv1.ClaimDecided{Claim: claimToProto(c, ServicePrincipal)})
	return err
}

// GetClaim returns one claim in the caller's scope.
func (s *Service) GetClaim(ctx context.Context, req *travelv1.GetClaimRequest) (*travelv1.Claim, error) {
	p, err := auth.Require(ctx, auth.RoleMigrationsverket, auth.RoleAsylumSeeker, auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	c, err := s.claim(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if !canSee(p, c) {
		return nil, status.Error(codes.PermissionDenied, "the claim is outside the caller's scope")
	}
	return claimToProto(c, p), nil
}

func canSee(p auth.Principal, c domain.Claim) bool {
	switch p.Role {
	case auth.RoleMigrationsverket:
		return true
	case auth.RoleAsylumSeeker:
		return p.Dossier == c.Dossier
	case auth.RoleCountyBoard:
		return p.Lan == c.LanCode
	}
	return false
}

// ListClaims lists the claims in the caller's scope.
func (s *Service) ListClaims(ctx context.Context, req *travelv1.ListClaimsRequest) (*travelv1.ListClaimsResponse, error) {
	p, err := auth.Require(ctx, auth.RoleMigrationsverket, auth.RoleAsylumSeeker, auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleCountyBoard && strings.Contains(req.GetFilter(), "dossier_number") {
		return nil, badrequest.Field("filter", "county boards may not filter on dossier_number")
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	filter, err := listing.ParseFilter(req, store.ClaimFilterFields)
	if err != nil {
		return nil, err
	}
	// The state filter takes the enum's short names: state = "IN_REVIEW".
	var sc store.Scope
	switch p.Role {
	case auth.RoleAsylumSeeker:
		sc.Dossier = p.Dossier
	case auth.RoleCountyBoard:
		sc.Lan = p.Lan
	}
	list, err := s.store.ListClaims(ctx, filter, sc, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &travelv1.ListClaimsResponse{NextPageToken: next}
	for _, c := range list {
		resp.Claims = append(resp.Claims, claimToProto(c, p))
	}
	return resp, nil
}

// ApproveClaim approves a claim in review.
func (s *Service) ApproveClaim(ctx context.Context, req *travelv1.ApproveClaimRequest) (*travelv1.Claim, error) {
	return s.review(ctx, req.GetName(), domain.StateApproved, req.GetReason(), domain.StateInReview)
}

// RejectClaim rejects a claim in review or pending.
func (s *Service) RejectClaim(ctx context.Context, req *travelv1.RejectClaimRequest) (*travelv1.Claim, error) {
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, badrequest.Field("reason", "required")
	}
	return s.review(ctx, req.GetName(), domain.StateRejected, req.GetReason(), domain.StateInReview, domain.StatePending)
}

func (s *Service) review(ctx context.Context, name, to, reason string, from ...string) (*travelv1.Claim, error) {
	p, err := auth.Require(ctx, auth.RoleMigrationsverket)
	if err != nil {
		return nil, err
	}
	c, err := s.claim(ctx, name)
	if err != nil {
		return nil, err
	}
	c.State, c.DecisionReason, c.DecideTime = to, reason, s.now().UTC()
	err = s.store.UpdateClaim(ctx, c, from, func(tx *sqlx.Tx) error { return s.publishDecided(ctx, tx, c) })
	if errors.Is(err, store.ErrConflict) {
		return nil, badrequest.Field("name", "the claim is not in review (it may have been decided meanwhile)")
	}
	if err != nil {
		return nil, err
	}
	s.notify()
	return claimToProto(c, p), nil
}

func (s *Service) claim(ctx context.Context, name string) (domain.Claim, error) {
	id, ok := domain.ParseClaimName(name)
	if !ok {
		return domain.Claim{}, badrequest.Field("name", "must be claims/{id}")
	}
	c, err := s.store.GetClaim(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, status.Errorf(codes.NotFound, "%s not found", name)
	}
	return c, err
}

// RecheckPending asks the registry again about claims waiting for it, oldest
// first, and decides those it answers for; it stops at the first claim the
// registry still cannot answer. It returns how many were decided.
func (s *Service) RecheckPending(ctx context.Context) int {
	list, err := s.store.PendingClaims(ctx, 200)
	if err != nil {
		s.log.ErrorContext(ctx, "pending claims", "err", err)
		return 0
	}
	decided := 0
	for _, c := range list {
		if err := s.evaluate(ctx, &c); err != nil {
			s.log.ErrorContext(ctx, "re-check claim", "claim", c.Name(), "err", err)
			continue
		}
		if c.State == domain.StatePending {
			break // still unreachable: try the rest at the next tick
		}
		err := s.store.UpdateClaim(ctx, c, []string{domain.StatePending}, func(tx *sqlx.Tx) error { return s.publishDecided(ctx, tx, c) })
		if err != nil && !errors.Is(err, store.ErrConflict) {
			s.log.ErrorContext(ctx, "decide re-checked claim", "claim", c.Name(), "err", err)
			continue
		}
		decided++
	}
	if decided > 0 {
		s.notify()
	}
	return decided
}

// onParticipationEnded records an ended participation; approved, unpaid
// claims for trips after the end go back to review.
func (s *Service) onParticipationEnded(ctx context.Context, tx *sqlx.Tx, ev events.Event) error {
	var m activityv1.ParticipationEnded
	if err := ev.Decode(&m); err != nil {
		return err
	}
	dossier, _ := domain.ParseDossier(m.GetDossierNumber())
	claims, err := store.RecordParticipationEnd(ctx, tx, m.GetCertificate(), dossier, m.GetActivity(), m.GetEndDate(), int32(m.GetOutcome()))
	if err != nil {
		return err
	}
	for _, c := range claims {
		c.State = domain.StateInReview
		c.Reasons = append(c.Reasons, domain.ReasonParticipationEnded)
		c.DecideTime = s.now().UTC()
		if err := store.UpdateClaimTx(ctx, tx, c, []string{domain.StateApproved}, func(tx *sqlx.Tx) error {
			return s.publishDecided(ctx, tx, c)
		}); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

func claimFromProto(p *travelv1.Claim) domain.Claim {
	return domain.Claim{
		Dossier: p.GetDossierNumber(), TripDate: p.GetTripDate(), FromKommunCode: p.GetFromKommunCode(),
		ToKommunCode: p.GetToKommunCode(), Activity: p.GetActivity(), Certificate: p.GetCertificate(),
		DistanceKm: p.GetDistanceKm(), CostOre: p.GetCostOre(), TicketType: int32(p.GetTicketType()),
	}
}

var claimStates = map[string]travelv1.ClaimState{
	domain.StatePending:  travelv1.ClaimState_CLAIM_STATE_PENDING,
	domain.StateInReview: travelv1.ClaimState_CLAIM_STATE_IN_REVIEW,
	domain.StateApproved: travelv1.ClaimState_CLAIM_STATE_APPROVED,
	domain.StateRejected: travelv1.ClaimState_CLAIM_STATE_REJECTED,
	domain.StatePaid:     travelv1.ClaimState_CLAIM_STATE_PAID,
}

// claimToProto renders c for the viewer: county boards never see the
// dossier number.
func claimToProto(c domain.Claim, viewer auth.Principal) *travelv1.Claim {
	out := &travelv1.Claim{
		Name: c.Name(), DossierNumber: c.Dossier, TripDate: c.TripDate, FromKommunCode: c.FromKommunCode,
		ToKommunCode: c.ToKommunCode, Activity: c.Activity, Certificate: c.Certificate, DistanceKm: c.DistanceKm,
		CostOre: c.CostOre, TicketType: travelv1.TicketType(c.TicketType), State: claimStates[c.State],
		Reasons: c.Reasons, DecisionReason: c.DecisionReason, LanCode: c.LanCode, SubmitTime: ts(c.SubmitTime),
		DecideTime: ts(c.DecideTime), PayTime: ts(c.PayTime),
	}
	if c.PaymentRun != "" {
		out.PaymentRun = domain.PaymentRun{ID: c.PaymentRun}.Name()
	}
	if viewer.Role != auth.RoleMigrationsverket && viewer.Role != auth.RoleAsylumSeeker {
		out.DossierNumber = ""
	}
	return out
}
