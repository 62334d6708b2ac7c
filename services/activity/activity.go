// Package activity is the activity registry that the county boards keep with
// Folkbildningsrådet: organisers register their activities here, and anyone
// can find them. This file wires the service into a host; grpc.go translates
// the API; the rules live in internal/domain and the tables in internal/store.
package activity

import (
	"time"

	"google.golang.org/grpc"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/events"
)

// Component describes the service to a host.
var Component = app.Component{
	Name:       "activity",
	Migrations: store.Migrations,
	New: func(d app.Deps) (app.Service, error) {
		return &Service{store: store.New(d.DB), relay: d.Relay, now: time.Now}, nil
	},
}

// Service implements tia.activity.v1.ActivityService.
type Service struct {
	activityv1.UnimplementedActivityServiceServer
	store *store.Store
	relay *events.Relay
	now   func() time.Time
}

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) { activityv1.RegisterActivityServiceServer(r, s) }

// Subscriptions: the registry consumes no events yet.
func (s *Service) Subscriptions() []app.Subscription { return nil }
