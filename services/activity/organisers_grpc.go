package activity

import (
	"context"
	"errors"
	"strings"

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

// CreateOrganiser registers an organiser: the organiser itself,
// Folkbildningsrådet or a county board.
func (s *Service) CreateOrganiser(ctx context.Context, req *activityv1.CreateOrganiserRequest) (*activityv1.Organiser, error) {
	p, err := auth.Require(ctx, auth.RoleOrganiser, auth.RoleFolkbildningsradet, auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	o := organiserFromProto(req.GetOrganiser())
	if err := o.Normalize(); err != nil {
		return nil, badrequest.Prefix("organiser", err)
	}
	if p.Role == auth.RoleOrganiser && p.Org != o.OrgNumber {
		return nil, status.Error(codes.PermissionDenied, "an organiser may only register itself")
	}
	o.CreateTime = s.now().UTC()
	o.UpdateTime = o.CreateTime
	out := organiserToProto(o)
	err = s.store.CreateOrganiser(ctx, o, events.Publishing(ctx, SubjectOrganiserRegistered, &activityv1.OrganiserRegistered{Organiser: out}))
	if errors.Is(err, store.ErrExists) {
		return nil, status.Errorf(codes.AlreadyExists, "%s already exists", o.Name())
	}
	if err != nil {
		return nil, err
	}
	s.relay.Notify()
	return out, nil
}

// GetOrganiser returns an organiser; any signed-in caller.
func (s *Service) GetOrganiser(ctx context.Context, req *activityv1.GetOrganiserRequest) (*activityv1.Organiser, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	o, err := s.store.GetOrganiser(ctx, strings.TrimPrefix(req.GetName(), "organisers/"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return organiserToProto(o), nil
}

// UpdateOrganiser changes display_name, kind or contacts.
func (s *Service) UpdateOrganiser(ctx context.Context, req *activityv1.UpdateOrganiserRequest) (*activityv1.Organiser, error) {
	name := req.GetOrganiser().GetName()
	org, ok := strings.CutPrefix(name, "organisers/")
	if !ok || len(org) != 10 {
		return nil, badrequest.Field("organiser.name", "must be organisers/{org_number}")
	}
	p, err := auth.Require(ctx, auth.RoleOrganiser, auth.RoleFolkbildningsradet, auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleOrganiser && p.Org != org {
		return nil, status.Error(codes.PermissionDenied, "an organiser may only change itself")
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, badrequest.Field("update_mask", "name the fields to change: display_name, kind, contacts")
	}
	o, err := s.store.GetOrganiser(ctx, org)
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", name)
	}
	if err != nil {
		return nil, err
	}
	in := organiserFromProto(req.GetOrganiser())
	for _, f := range paths {
		switch f {
		case "display_name":
			o.DisplayName = in.DisplayName
		case "kind":
			o.Kind = in.Kind
		case "contacts":
			o.Contacts = in.Contacts
		default:
			return nil, badrequest.Field("update_mask", "cannot change "+quote(f)+"; changeable: display_name, kind, contacts")
		}
	}
	if err := o.Normalize(); err != nil {
		return nil, badrequest.Prefix("organiser", err)
	}
	o.UpdateTime = s.now().UTC()
	err = s.store.UpdateOrganiser(ctx, o, func(*sqlx.Tx) error { return nil })
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", name)
	}
	if err != nil {
		return nil, err
	}
	return organiserToProto(o), nil
}

// ListOrganisers lists organisers; any signed-in caller.
func (s *Service) ListOrganisers(ctx context.Context, req *activityv1.ListOrganisersRequest) (*activityv1.ListOrganisersResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	filter, err := listing.ParseFilter(req, store.OrganiserFilterFields)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListOrganisers(ctx, filter, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &activityv1.ListOrganisersResponse{NextPageToken: next}
	for _, o := range list {
		resp.Organisers = append(resp.Organisers, organiserToProto(o))
	}
	return resp, nil
}

// ListLanContacts lists who to call at every organiser for a län.
func (s *Service) ListLanContacts(ctx context.Context, req *activityv1.ListLanContactsRequest) (*activityv1.ListLanContactsResponse, error) {
	lan := strings.TrimPrefix(req.GetParent(), "lan/")
	if err := requireLan(ctx, lan); err != nil {
		return nil, err
	}
	list, err := s.store.LanContacts(ctx, lan)
	if err != nil {
		return nil, err
	}
	resp := &activityv1.ListLanContactsResponse{}
	for _, c := range list {
		resp.Contacts = append(resp.Contacts, &activityv1.LanContact{
			Organiser: c.Organiser.Name(), OrganiserDisplayName: c.Organiser.DisplayName,
			OrganiserKind: kindToProto[c.Organiser.Kind], Contact: contactToProto(c.Contact),
		})
	}
	return resp, nil
}

// requireLan admits the county board of lan, Migrationsverket and
// Folkbildningsrådet, and checks that lan exists.
func requireLan(ctx context.Context, lan string) error {
	p, err := auth.Require(ctx, auth.RoleCountyBoard, auth.RoleMigrationsverket, auth.RoleFolkbildningsradet)
	if err != nil {
		return err
	}
	if p.Role == auth.RoleCountyBoard && p.Lan != lan {
		return status.Errorf(codes.PermissionDenied, "a county board sees only its own län (%s)", p.Lan)
	}
	if !domain.KnownLan(lan) {
		return status.Errorf(codes.NotFound, "lan/%s not found", lan)
	}
	return nil
}
