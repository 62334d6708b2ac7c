package activity

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
)

// CreateAgreement signs an agreement: only the county board of the län.
func (s *Service) CreateAgreement(ctx context.Context, req *activityv1.CreateAgreementRequest) (*activityv1.Agreement, error) {
	lan := strings.TrimPrefix(req.GetParent(), "lan/")
	p, err := auth.Require(ctx, auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	if p.Lan != lan {
		return nil, status.Errorf(codes.PermissionDenied, "only the county board of län %s signs agreements for it", lan)
	}
	in := req.GetAgreement()
	a := domain.Agreement{
		LanCode: lan, ID: uuid.Must(uuid.NewV7()).String(), OrgNumber: strings.TrimPrefix(in.GetOrganiser(), "organisers/"),
		StartDate: in.GetStartDate(), EndDate: in.GetEndDate(), Description: in.GetDescription(),
		CreateTime: s.now().UTC(),
	}
	if err := a.Normalize(s.today()); err != nil {
		return nil, badrequest.Prefix("agreement", err)
	}
	if _, err := s.store.GetOrganiser(ctx, a.OrgNumber); errors.Is(err, store.ErrNotFound) {
		return nil, badrequest.Field("agreement.organiser", in.GetOrganiser()+" is not registered")
	} else if err != nil {
		return nil, err
	}
	out := agreementToProto(a)
	err = s.store.CreateAgreement(ctx, a, events.Publishing(ctx, SubjectAgreementSigned, &activityv1.AgreementSigned{Agreement: out, LanCode: lan}))
	if err != nil {
		return nil, err
	}
	s.relay.Notify()
	return out, nil
}

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
	p, err := auth.Require(ctx, auth.RoleCountyBoard, auth.RoleOrganiser, auth.RoleMigrationsverket, auth.RoleFolkbildningsradet)
	if err != nil {
		return nil, err
	}
	lan, id, _ := parseAgreementName(req.GetName())
	a, err := s.store.GetAgreement(ctx, lan, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	if !canSeeAgreement(p, a) {
		return nil, status.Error(codes.PermissionDenied, "not a party to this agreement")
	}
	return agreementToProto(a), nil
}

// ListAgreements lists agreements of a län (`lan/-`: all the caller may see).
func (s *Service) ListAgreements(ctx context.Context, req *activityv1.ListAgreementsRequest) (*activityv1.ListAgreementsResponse, error) {
	p, err := auth.Require(ctx, auth.RoleCountyBoard, auth.RoleOrganiser, auth.RoleMigrationsverket, auth.RoleFolkbildningsradet)
	if err != nil {
		return nil, err
	}
	lan := strings.TrimPrefix(req.GetParent(), "lan/")
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
			return nil, status.Errorf(codes.PermissionDenied, "a county board sees only its own län (%s)", p.Lan)
		}
	case auth.RoleOrganiser:
		org = p.Org
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	filter, err := listing.ParseFilter(req, store.AgreementFilterFields)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListAgreements(ctx, lan, org, filter, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &activityv1.ListAgreementsResponse{NextPageToken: next}
	for _, a := range list {
		resp.Agreements = append(resp.Agreements, agreementToProto(a))
	}
	return resp, nil
}

// EndAgreement ends an agreement early: only the county board of the län.
func (s *Service) EndAgreement(ctx context.Context, req *activityv1.EndAgreementRequest) (*activityv1.Agreement, error) {
	lan, id, _ := parseAgreementName(req.GetName())
	p, err := auth.Require(ctx, auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	if p.Lan != lan {
		return nil, status.Errorf(codes.PermissionDenied, "only the county board of län %s ends its agreements", lan)
	}
	a, err := s.store.EndAgreement(ctx, lan, id, func(a *domain.Agreement) error {
		return a.End(req.GetEndDate(), s.today().Format(domain.DateLayout))
	},
		func(tx *sqlx.Tx, a domain.Agreement) error {
			_, err := events.Publish(ctx, tx, SubjectAgreementEnded, &activityv1.AgreementEnded{Agreement: agreementToProto(a), LanCode: lan})
			return err
		})
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	s.relay.Notify()
	return agreementToProto(a), nil
}
