// Package travel is Migrationsverket's travel compensation (reseersättning):
// the decisions between which kommuner travel to activities is compensated,
// and, in later steps, claims, checks and payments. This file wires the
// service into a host; grpc.go translates the API; the rules live in
// internal/domain and the tables in internal/store.
package travel

import (
	"time"

	"google.golang.org/grpc"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// Component describes the service to a host.
var Component = app.Component{
	Name:       "travel",
	Migrations: store.Migrations,
	New: func(d app.Deps) (app.Service, error) {
		return &Service{store: store.New(d.DB), now: time.Now}, nil
	},
}

// Service implements tia.travel.v1.TravelService. It publishes no events
// yet, so it keeps no relay.
type Service struct {
	travelv1.UnimplementedTravelServiceServer
	store *store.Store
	now   func() time.Time
}

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) { travelv1.RegisterTravelServiceServer(r, s) }

// Subscriptions: the service consumes no events yet.
func (s *Service) Subscriptions() []app.Subscription { return nil }
