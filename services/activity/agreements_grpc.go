package activity

import (
	"context"
	"errors"

	"github.com/google/uuid"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/uow"
)

// CreateAgreement signs an agreement: only the county board of the län.
func (s *Service) CreateAgreement(ctx context.Context, req *activityv1.CreateAgreementRequest) (*activityv1.Agreement, error) {
	p, vars, err := admit(ctx, lanName, "parent", req.GetParent(), auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	lan := vars[0]
	if p.Lan != lan {
		return nil, apierr.Denied("only the county board of län %s signs agreements for it", lan)
	}
	in := req.GetAgreement()
	if err := validate("agreement", in); err != nil {
		return nil, err
	}
	a := domain.Agreement{LanCode: lan, StartDate: in.GetStartDate(), EndDate: in.GetEndDate(), Description: in.GetDescription()}
	if org, ok := organiserName.Match(in.GetOrganiser()); ok {
		a.OrgNumber = org[0]
	}
	if err := a.Normalize(s.today()); err != nil {
		return nil, badrequest.Prefix("agreement", err)
	}
	return uow.Once(ctx, s.units, uow.Request{Method: activityv1.ActivityService_CreateAgreement_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*activityv1.Agreement, error) {
			if _, err := store.GetOrganiser(ctx, w.Tx, a.OrgNumber); errors.Is(err, store.ErrNotFound) {
				return nil, badrequest.Field("agreement.organiser", in.GetOrganiser()+" is not registered")
			} else if err != nil {
				return nil, err
			}
			a.ID = uuid.Must(uuid.NewV7()).String()
			a.CreateTime = s.clock.Now().UTC()
			if err := s.store.CreateAgreement(ctx, w.Tx, a); err != nil {
				return nil, err
			}
			out := agreementToProto(a)
			return out, publish(w, &activityv1.AgreementSigned{Agreement: out, LanCode: lan})
		})
}

// agreementReaders may read agreements, each those canSeeAgreement admits.
var agreementReaders = []auth.Role{auth.RoleCountyBoard, auth.RoleOrganiser, auth.RoleMigrationsverket, auth.RoleFolkbildningsradet}

// canSeeAgreement: the county board of the län, Migrationsverket,
// Folkbildningsrådet, and the organiser party to it.
func canSeeAgreement(p auth.Principal, a domain.Agreement) bool {
	switch p.Role {
	case auth.RoleCountyBoard:
		return p.Lan == a.LanCode
	case auth.RoleOrganiser:
		return p.Org == a.OrgNumber
	case auth.RoleMigrationsverket, auth.RoleFolkbildningsradet:
		return true
	}
	return false
}

// GetAgreement returns one agreement.
func (s *Service) GetAgreement(ctx context.Context, req *activityv1.GetAgreementRequest) (*activityv1.Agreement, error) {
	p, vars, err := admit(ctx, agreementName, "name", req.GetName(), agreementReaders...)
	if err != nil {
		return nil, err
	}
	a, err := s.store.GetAgreement(ctx, vars[0], vars[1])
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound(req.GetName())
	}
	if err != nil {
		return nil, err
	}
	if !canSeeAgreement(p, a) {
		return nil, apierr.Denied("not a party to this agreement")
	}
	return agreementToProto(a), nil
}

var agreementList = listSpec{fields: store.AgreementFilterFields, columns: store.AgreementOrder}

// ListAgreements lists agreements of a län (`lan/-`: all the caller may see).
func (s *Service) ListAgreements(ctx context.Context, req *activityv1.ListAgreementsRequest) (*activityv1.ListAgreementsResponse, error) {
	p, vars, err := admit(ctx, lanName, "parent", req.GetParent(), agreementReaders...)
	if err != nil {
		return nil, err
	}
	lan := vars[0]
	if lan == "-" {
		lan = ""
	}
	org := ""
	switch p.Role {
	case auth.RoleCountyBoard:
		if lan == "" {
			lan = p.Lan
		}
		if lan != p.Lan {
			return nil, apierr.Denied("a county board sees only its own län (%s)", p.Lan)
		}
	case auth.RoleOrganiser:
		org = p.Org
	}
	q, err := agreementList.parse(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListAgreements(ctx, lan, org, q.filter, q.order, q.page)
	if err != nil {
		return nil, err
	}
	agreements, next := listing.Items(q.page, list, agreementToProto)
	return &activityv1.ListAgreementsResponse{Agreements: agreements, NextPageToken: next}, nil
}

// EndAgreement ends an agreement early: only the county board of the län.
func (s *Service) EndAgreement(ctx context.Context, req *activityv1.EndAgreementRequest) (*activityv1.Agreement, error) {
	p, vars, err := admit(ctx, agreementName, "name", req.GetName(), auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	lan, id := vars[0], vars[1]
	if p.Lan != lan {
		return nil, apierr.Denied("only the county board of län %s ends its agreements", lan)
	}
	return uow.Once(ctx, s.units, uow.Request{Method: activityv1.ActivityService_EndAgreement_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*activityv1.Agreement, error) {
			a, err := store.GetAgreement(ctx, w.Tx, lan, id)
			if errors.Is(err, store.ErrNotFound) {
				return nil, apierr.NotFound(req.GetName())
			}
			if err != nil {
				return nil, err
			}
			if err := a.End(req.GetEndDate(), s.todayString()); err != nil {
				return nil, err
			}
			if err := store.SaveAgreementEnd(ctx, w.Tx, a); err != nil {
				return nil, err
			}
			out := agreementToProto(a)
			return out, publish(w, &activityv1.AgreementEnded{Agreement: out, LanCode: lan})
		})
}
