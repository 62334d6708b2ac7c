package travel

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/dossier"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// CreateClaim submits a claim for one trip and runs the checks. A repeat
// with the same request id (by the same dossier) returns the first claim.
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
		} else if d, ok := dossier.Parse(c.Dossier); ok && d != p.Dossier {
			return nil, apierr.Denied("an asylum seeker may only claim for their own dossier")
		}
	}
	if err := c.Normalize(s.today()); err != nil {
		return nil, badrequest.Prefix("claim", err)
	}
	c.RequestID = req.GetRequestId()
	if c.RequestID != "" {
		if prev, err := s.claimByRequest(ctx, c, p); !errors.Is(err, store.ErrNotFound) {
			return prev, err
		}
	}
	c.ID = uuid.Must(uuid.NewV7()).String()
	c.SubmitTime = s.clock.Now().UTC()
	if err := s.checks.evaluate(ctx, &c); err != nil {
		return nil, err
	}
	err = s.units.Do(ctx, func(w *uow.Work) error {
		if err := store.InsertClaim(ctx, w.Tx, c); err != nil {
			return err
		}
		if err := w.Audit(audit.OpCreate, c.Name(), c.Dossier); err != nil {
			return err
		}
		return publishDecided(w, c)
	})
	if errors.Is(err, store.ErrExists) {
		return s.claimByRequest(ctx, c, p) // the same request, committed first
	}
	if err != nil {
		return nil, err
	}
	return claimToProto(c, p), nil
}

// claimByRequest returns the claim c's dossier submitted with c's request
// id (recording the read), or store.ErrNotFound.
func (s *Service) claimByRequest(ctx context.Context, c domain.Claim, p auth.Principal) (*travelv1.Claim, error) {
	prev, err := s.store.ClaimByRequest(ctx, c.Dossier, c.RequestID)
	if err != nil {
		return nil, err
	}
	if err := s.units.AuditRead(ctx, audit.OpRead, prev.Name(), prev.Dossier); err != nil {
		return nil, err
	}
	return claimToProto(prev, p), nil
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
		return nil, apierr.Denied("the claim is outside the caller's scope")
	}
	if err := s.units.AuditRead(ctx, audit.OpRead, c.Name(), c.Dossier); err != nil {
		return nil, err
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
	if err := s.units.AuditRead(ctx, audit.OpList, "claims", dossiersOf(list)...); err != nil {
		return nil, err
	}
	return resp, nil
}

// dossiersOf are the dossier numbers of claims (for the audit trail).
func dossiersOf(claims []domain.Claim) []string {
	out := make([]string, 0, len(claims))
	for _, c := range claims {
		if c.Dossier != "" {
			out = append(out, c.Dossier)
		}
	}
	return out
}

// ApproveClaim approves a claim in review.
func (s *Service) ApproveClaim(ctx context.Context, req *travelv1.ApproveClaimRequest) (*travelv1.Claim, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	return s.review(ctx, uow.Request{Method: travelv1.TravelService_ApproveClaim_FullMethodName, ID: req.GetRequestId()},
		req.GetName(), domain.StateApproved, req.GetReason(), domain.StateInReview)
}

// RejectClaim rejects a claim in review or pending.
func (s *Service) RejectClaim(ctx context.Context, req *travelv1.RejectClaimRequest) (*travelv1.Claim, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, badrequest.Field("reason", "required")
	}
	return s.review(ctx, uow.Request{Method: travelv1.TravelService_RejectClaim_FullMethodName, ID: req.GetRequestId()},
		req.GetName(), domain.StateRejected, req.GetReason(), domain.StateInReview, domain.StatePending)
}

// review decides a claim in one of the states from, once per request id.
func (s *Service) review(ctx context.Context, rq uow.Request, name, to, reason string, from ...string) (*travelv1.Claim, error) {
	p, _ := auth.FromContext(ctx)
	id, ok := domain.ParseClaimName(name)
	if !ok {
		return nil, badrequest.Field("name", "must be claims/{id}")
	}
	return uow.Once(ctx, s.units, rq, func(w *uow.Work) (*travelv1.Claim, error) {
		c, err := s.store.GetClaimTx(ctx, w.Tx, id)
		if err != nil {
			return nil, notFound(err, name)
		}
		c.State, c.DecisionReason, c.DecideTime = to, reason, s.clock.Now().UTC()
		err = store.UpdateClaim(ctx, w.Tx, c, from)
		if errors.Is(err, store.ErrConflict) {
			return nil, badrequest.Field("name", "the claim is not in review (it may have been decided meanwhile)")
		}
		if err != nil {
			return nil, err
		}
		if err := w.Audit(audit.OpUpdate, c.Name(), c.Dossier); err != nil {
			return nil, err
		}
		return claimToProto(c, p), publishDecided(w, c)
	})
}

func (s *Service) claim(ctx context.Context, name string) (domain.Claim, error) {
	id, ok := domain.ParseClaimName(name)
	if !ok {
		return domain.Claim{}, badrequest.Field("name", "must be claims/{id}")
	}
	c, err := s.store.GetClaim(ctx, id)
	return c, notFound(err, name)
}

// onParticipationEnded records an ended participation; approved, unpaid
// claims for trips after the end go back to review.
func (s *Service) onParticipationEnded(ctx context.Context, tx *sqlx.Tx, ev events.Event) error {
	var m activityv1.ParticipationEnded
	if err := ev.Decode(&m); err != nil {
		return err
	}
	d, _ := dossier.Parse(m.GetDossierNumber())
	claims, err := store.RecordParticipationEnd(ctx, tx, m.GetCertificate(), d, m.GetActivity(), m.GetEndDate(), int32(m.GetOutcome()))
	if err != nil {
		return err
	}
	for _, c := range claims {
		c.State = domain.StateInReview
		c.Reasons = append(c.Reasons, domain.ReasonParticipationEnded)
		c.DecideTime = s.clock.Now().UTC()
		err := store.UpdateClaim(ctx, tx, c, []string{domain.StateApproved})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.audit.Append(ctx, tx, s.audit.Entry(ctx, audit.OpUpdate, c.Name(), c.Dossier)); err != nil {
			return err
		}
		msg := &travelv1.ClaimDecided{Claim: claimToProto(c, ServicePrincipal)}
		if _, err := events.Publish(ctx, tx, SubjectClaimDecided, msg); err != nil {
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
