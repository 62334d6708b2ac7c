// Package statistics holds Migrationsverket's figures on the target group:
// adults registered in the reception system per kommun, housing type, sex
// and age band, on reference dates. The county boards read them to see where
// activities are needed. This file wires the service into a host; grpc.go
// translates the API; the rules live in internal/domain and the tables in
// internal/store.
package statistics

import (
	"time"

	"google.golang.org/grpc"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/statistics/internal/store"
)

// Component describes the service to a host.
var Component = app.Component{
	Name:       "statistics",
	Migrations: store.Migrations,
	New: func(d app.Deps) (app.Service, error) {
		return &Service{store: store.New(d.DB), now: time.Now}, nil
	},
}

// Service implements tia.statistics.v1.StatisticsService. It publishes no
// events yet, so it keeps no relay.
type Service struct {
	statisticsv1.UnimplementedStatisticsServiceServer
	store *store.Store
	now   func() time.Time
}

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	statisticsv1.RegisterStatisticsServiceServer(r, s)
}

// Subscriptions: the service consumes no events yet.
func (s *Service) Subscriptions() []app.Subscription { return nil }
