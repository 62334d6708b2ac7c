package travel

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"go.einride.tech/aip/filtering"
	"go.einride.tech/aip/pagination"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/uow"
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
	return uow.Once(ctx, s.units, uow.Request{Method: travelv1.TravelService_CreateRoute_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*travelv1.Route, error) {
			return decideRoute(ctx, w, &r, s.clock.Now().UTC())
		})
}

// decideRoute stores r as a new route decided at now and publishes
// RouteDecided with it in w: the one way a route comes to be, directly or
// by a consultation's decision.
func decideRoute(ctx context.Context, w *uow.Work, r *domain.Route, now time.Time) (*travelv1.Route, error) {
	r.ID = uuid.Must(uuid.NewV7()).String()
	r.CreateTime = now
	if err := store.CreateRoute(ctx, w.Tx, *r); err != nil {
		return nil, err
	}
	out := toProto(*r)
	return out, publish(w, &travelv1.RouteDecided{Route: out})
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
	return uow.Once(ctx, s.units, uow.Request{Method: travelv1.TravelService_RevokeRoute_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*travelv1.Route, error) {
			r, err := s.store.LockRoute(ctx, w.Tx, id)
			if err != nil {
				return nil, notFound(err, req.GetName())
			}
			if err := r.Revoke(req.GetRevokedFrom()); err != nil {
				return nil, err
			}
			if err := store.SaveRevocation(ctx, w.Tx, r); err != nil {
				return nil, err
			}
			out := toProto(r)
			return out, publish(w, &travelv1.RouteRevoked{Route: out, RevokedFrom: r.RevokedFrom})
		})
}

// publish adds msg to the unit of work's outbox on the subject named for
// its type.
func publish(w *uow.Work, msg proto.Message) error { return w.Publish(events.SubjectOf(msg), msg) }

// notFound turns the store's "not found" into the AIP-193 wording for the
// name the client asked for; other errors pass.
func notFound(err error, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierr.NotFound(name)
	}
	return err
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
	if err != nil {
		return nil, notFound(err, req.GetName())
	}
	return toProto(r), nil
}

// ListRoutes lists route decisions to any signed-in caller, oldest first.
func (s *Service) ListRoutes(ctx context.Context, req *travelv1.ListRoutesRequest) (*travelv1.ListRoutesResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	list, next, err := listPage(req, store.FilterFields, func(filter listing.Filter, page listing.Page) ([]domain.Route, error) {
		return s.store.List(ctx, filter, page)
	}, toProto)
	if err != nil {
		return nil, err
	}
	return &travelv1.ListRoutesResponse{Routes: list, NextPageToken: next}, nil
}

// listRequest is a list request with a page and a filter.
type listRequest interface {
	pagination.Request
	filtering.Request
}

// listPage parses the page and the filter (on fields) req asks for, reads
// the rows with fetch and converts them: the page's items and the next
// page's token.
func listPage[T, P any](req listRequest, fields map[string]listing.Field, fetch func(listing.Filter, listing.Page) ([]T, error), convert func(T) P) ([]P, string, error) {
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, "", err
	}
	filter, err := listing.ParseFilter(req, fields)
	if err != nil {
		return nil, "", err
	}
	rows, err := fetch(filter, page)
	if err != nil {
		return nil, "", err
	}
	out, next := listing.Items(page, rows, convert)
	return out, next, nil
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
