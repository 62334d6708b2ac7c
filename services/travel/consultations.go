package travel

import (
	"context"
	"slices"

	"github.com/google/uuid"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// CreateConsultation opens a consultation on proposed routes.
func (s *Service) CreateConsultation(ctx context.Context, req *travelv1.CreateConsultationRequest) (*travelv1.Consultation, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	in := req.GetConsultation()
	if in == nil {
		return nil, badrequest.Field("consultation", "required")
	}
	c := domain.Consultation{Deadline: in.GetDeadline(), Description: in.GetDescription()}
	for _, p := range in.GetProposals() {
		c.Proposals = append(c.Proposals, fromProto(p))
	}
	if err := c.Normalize(s.today()); err != nil {
		return nil, badrequest.Prefix("consultation", err)
	}
	c.Invited = slices.Compact(slices.Sorted(slices.Values(in.GetInvitedOrganisers())))
	return uow.Once(ctx, s.units, uow.Request{Method: travelv1.TravelService_CreateConsultation_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*travelv1.Consultation, error) {
			c.ID = uuid.Must(uuid.NewV7()).String()
			c.State = domain.ConsultationOpen
			c.CreateTime = s.clock.Now().UTC()
			if err := store.CreateConsultation(ctx, w.Tx, c); err != nil {
				return nil, err
			}
			out := consultationToProto(c)
			return out, publish(w, &travelv1.ConsultationOpened{Consultation: out})
		})
}

// GetConsultation returns a consultation to any signed-in caller: the
// agencies, the county boards and organisers addressed, and the public
// concerned (consultations hold no personal data).
func (s *Service) GetConsultation(ctx context.Context, req *travelv1.GetConsultationRequest) (*travelv1.Consultation, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	c, err := s.consultation(ctx, req.GetName(), "name")
	if err != nil {
		return nil, err
	}
	return consultationToProto(c), nil
}

// ListConsultations lists consultations; a county board sees those
// concerning its län.
func (s *Service) ListConsultations(ctx context.Context, req *travelv1.ListConsultationsRequest) (*travelv1.ListConsultationsResponse, error) {
	p, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	lan := ""
	if p.Role == auth.RoleCountyBoard {
		lan = p.Lan
	}
	list, next, err := listPage(req, store.ConsultationFilterFields, func(filter listing.Filter, page listing.Page) ([]domain.Consultation, error) {
		return s.store.ListConsultations(ctx, filter, lan, page)
	}, consultationToProto)
	if err != nil {
		return nil, err
	}
	return &travelv1.ListConsultationsResponse{Consultations: list, NextPageToken: next}, nil
}

// CreateConsultationResponse records a response from a party the
// consultation addresses, up to the deadline: the county board of a län
// concerned, a registered organiser with activities in a kommun concerned
// (the activity registry is asked), or an organiser invited. Whether the
// caller may respond is decided before the response is validated, so a
// caller who may not gets 403 whatever it sent.
func (s *Service) CreateConsultationResponse(ctx context.Context, req *travelv1.CreateConsultationResponseRequest) (*travelv1.ConsultationResponse, error) {
	p, err := auth.Require(ctx, auth.RoleCountyBoard, auth.RoleOrganiser)
	if err != nil {
		return nil, err
	}
	c, err := s.consultation(ctx, req.GetParent(), "parent")
	if err != nil {
		return nil, err
	}
	if err := s.mayRespond(ctx, p, c); err != nil {
		return nil, err
	}
	in := req.GetResponse()
	if in == nil {
		return nil, badrequest.Field("response", "required")
	}
	if in.GetStance() == travelv1.Stance_STANCE_UNSPECIFIED {
		return nil, badrequest.Field("response.stance", "required")
	}
	return uow.Once(ctx, s.units, uow.Request{Method: travelv1.TravelService_CreateConsultationResponse_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*travelv1.ConsultationResponse, error) {
			c, err := s.store.LockConsultation(ctx, w.Tx, c.ID)
			if err != nil {
				return nil, notFound(err, req.GetParent())
			}
			if err := c.CheckResponse(s.today()); err != nil {
				return nil, err
			}
			r := domain.Response{
				ID: uuid.Must(uuid.NewV7()).String(), ConsultationID: c.ID, Stance: int32(in.GetStance()), Comment: in.GetComment(),
				Respondent: p.Subject, LanCode: p.Lan, OrgNumber: p.Org, CreateTime: s.clock.Now().UTC(),
			}
			if err := store.InsertResponse(ctx, w.Tx, r); err != nil {
				return nil, err
			}
			return responseToProto(r), nil
		})
}

// mayRespond decides whether p is a party c addresses.
func (s *Service) mayRespond(ctx context.Context, p auth.Principal, c domain.Consultation) error {
	switch {
	case p.Role == auth.RoleCountyBoard && slices.Contains(c.LanCodes, p.Lan):
		return nil
	case p.Role == auth.RoleCountyBoard:
		return apierr.Denied("the consultation does not concern this county board's län")
	case p.Org == "":
		return apierr.Denied("only a registered organiser may respond")
	case c.Invites(p.Org):
		return nil
	}
	active, err := s.registry.activeIn(ctx, p.Org, c.Kommuner(), s.today())
	if err != nil {
		return err
	}
	if !active {
		return apierr.Denied("the consultation addresses the organisers with activities in the kommuner concerned and those invited; this organiser is neither")
	}
	return nil
}

// DecideConsultation approves some (or none) of the proposals, creating
// their routes, with feedback on every response.
func (s *Service) DecideConsultation(ctx context.Context, req *travelv1.DecideConsultationRequest) (*travelv1.Consultation, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	id, ok := domain.ParseConsultationName(req.GetName())
	if !ok {
		return nil, badrequest.Field("name", "must be consultations/{id}")
	}
	var feedback []domain.Feedback
	for _, f := range req.GetFeedback() {
		feedback = append(feedback, domain.Feedback{Response: f.GetResponse(), Text: f.GetText()})
	}
	return uow.Once(ctx, s.units, uow.Request{Method: travelv1.TravelService_DecideConsultation_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*travelv1.Consultation, error) {
			c, err := s.store.LockConsultation(ctx, w.Tx, id)
			if err != nil {
				return nil, notFound(err, req.GetName())
			}
			if err := c.CheckDecision(req.GetApproved(), feedback); err != nil {
				return nil, err
			}
			now := s.clock.Now().UTC()
			approved := slices.Clone(req.GetApproved())
			slices.Sort(approved)
			d := &domain.Decision{Approved: approved, Feedback: feedback, Reason: req.GetReason(), DecideTime: now}
			for _, i := range approved {
				r := c.Proposals[i]
				r.Consultation = c.ID
				if _, err := decideRoute(ctx, w, &r, now); err != nil {
					return nil, err
				}
				d.Routes = append(d.Routes, r.Name())
			}
			c.State = domain.ConsultationDecided
			c.Decision = d
			if err := store.SaveDecision(ctx, w.Tx, c); err != nil {
				return nil, err
			}
			out := consultationToProto(c)
			return out, publish(w, &travelv1.ConsultationDecided{Consultation: out})
		})
}

func (s *Service) consultation(ctx context.Context, name, field string) (domain.Consultation, error) {
	id, ok := domain.ParseConsultationName(name)
	if !ok {
		return domain.Consultation{}, badrequest.Field(field, "must be consultations/{id}")
	}
	c, err := s.store.GetConsultation(ctx, id)
	return c, notFound(err, name)
}

func consultationToProto(c domain.Consultation) *travelv1.Consultation {
	out := &travelv1.Consultation{
		Name: c.Name(), Deadline: c.Deadline, Description: c.Description, LanCodes: c.LanCodes,
		CreateTime: ts(c.CreateTime), InvitedOrganisers: c.Invited,
	}
	switch c.State {
	case domain.ConsultationOpen:
		out.State = travelv1.ConsultationState_CONSULTATION_STATE_OPEN
	case domain.ConsultationDecided:
		out.State = travelv1.ConsultationState_CONSULTATION_STATE_DECIDED
	}
	for _, p := range c.Proposals {
		pr := toProto(p)
		pr.Name, pr.CreateTime = "", nil
		out.Proposals = append(out.Proposals, pr)
	}
	for _, r := range c.Responses {
		out.Responses = append(out.Responses, responseToProto(r))
	}
	if d := c.Decision; d != nil {
		out.Decision = &travelv1.ConsultationDecision{
			Routes: d.Routes, Approved: d.Approved, Reason: d.Reason, DecideTime: ts(d.DecideTime),
		}
		for _, f := range d.Feedback {
			out.Decision.Feedback = append(out.Decision.Feedback, &travelv1.Feedback{Response: f.Response, Text: f.Text})
		}
	}
	return out
}

func responseToProto(r domain.Response) *travelv1.ConsultationResponse {
	return &travelv1.ConsultationResponse{
		Name: r.Name(), Stance: travelv1.Stance(r.Stance), Comment: r.Comment, Respondent: r.Respondent,
		LanCode: r.LanCode, OrgNumber: r.OrgNumber, CreateTime: ts(r.CreateTime),
	}
}
