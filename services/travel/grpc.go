package travel

import (
	"context"
	"errors"

	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// CreateRoute records a direct route decision (without a consultation, for
// instance to continue a route decided before). Only Migrationsverket
// decides routes; DecideConsultation is the usual way. RouteDecided is
// published either way.
func (s *Service) CreateRoute(ctx context.Context, req *travelv1.CreateRouteRequest) (*travelv1.Route, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	if req.GetRoute() == nil {
		return nil, badrequest.Field("route", "required")
	}
	r := fromProto(req.GetRoute())
	if err := r.Normalize(); err != nil {
		return nil, badrequest.Prefix("route", err)
	}
	r.ID = uuid.Must(uuid.NewV7()).String()
	r.CreateTime = s.now().UTC()
	out := toProto(r)
	if err := s.store.Create(ctx, r, events.Publishing(ctx, SubjectRouteDecided, &travelv1.RouteDecided{Route: out})); err != nil {
		return nil, err
	}
	s.notify()
	return out, nil
}

// RevokeRoute ends a route from a date. Migrationsverket only.
func (s *Service) RevokeRoute(ctx context.Context, req *travelv1.RevokeRouteRequest) (*travelv1.Route, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	id, ok := domain.ParseName(req.GetName())
	if !ok {
		return nil, badrequest.Field("name", "must be routes/{id}")
	}
	r, err := s.store.Revoke(ctx, id, func(r *domain.Route) error { return r.Revoke(req.GetRevokedFrom()) },
		func(tx *sqlx.Tx, r domain.Route) error {
			_, err := events.Publish(ctx, tx, SubjectRouteRevoked, &travelv1.RouteRevoked{Route: toProto(r), RevokedFrom: r.RevokedFrom})
			return err
		})
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	s.notify()
	return toProto(r), nil
}

// GetRoute returns one route decision to any signed-in caller.
func (s *Service) GetRoute(ctx context.Context, req *travelv1.GetRouteRequest) (*travelv1.Route, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	id, ok := domain.ParseName(req.GetName())
	if !ok {
		return nil, badrequest.Field("name", "must be routes/{id}")
	}
	r, err := s.store.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return toProto(r), nil
}

// ListRoutes lists route decisions to any signed-in caller, oldest first.
func (s *Service) ListRoutes(ctx context.Context, req *travelv1.ListRoutesRequest) (*travelv1.ListRoutesResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	filter, err := listing.ParseFilter(req, store.FilterFields)
	if err != nil {
		return nil, err
	}
	list, err := s.store.List(ctx, filter, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &travelv1.ListRoutesResponse{NextPageToken: next}
	for _, r := range list {
		resp.Routes = append(resp.Routes, toProto(r))
	}
	return resp, nil
}

func fromProto(p *travelv1.Route) domain.Route {
	return domain.Route{
		FromKommunCode: p.GetFromKommunCode(), ToKommunCode: p.GetToKommunCode(),
		ValidFrom: p.GetValidFrom(), ValidTo: p.GetValidTo(), Reason: p.GetReason(),
	}
}

func toProto(r domain.Route) *travelv1.Route {
	return &travelv1.Route{
		Name: r.Name(), FromKommunCode: r.FromKommunCode, ToKommunCode: r.ToKommunCode,
		ValidFrom: r.ValidFrom, ValidTo: r.ValidTo, Reason: r.Reason, DistanceKm: r.DistanceKm,
		CreateTime: timestamppb.New(r.CreateTime), RevokedFrom: r.RevokedFrom, Consultation: consultationName(r.Consultation),
	}
}

func consultationName(id string) string {
	if id == "" {
		return ""
	}
	return domain.Consultation{ID: id}.Name()
}

// ts is a timestamp, or nil for the zero time.
func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
