// Package statistics holds Migrationsverket's figures on the target group:
// adults registered in the reception system per kommun, housing type, sex
// and age band, on reference dates, and the planned changes to it. The
// county boards read them to see where activities are needed. This file
// wires the service into a host; grpc.go, import.go and queries.go translate
// the API; the rules live in internal/domain and the tables in
// internal/store.
package statistics

import (
	"errors"
	"flag"
	"sync"
	"time"

	"google.golang.org/grpc"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/statistics/internal/domain"
	"github.com/tia-platform/tia/services/statistics/internal/store"
)

// Config is the service's own configuration: flags of the binary, each also
// read from the TIA_* variable of the same name.
type Config struct {
	// Limits bound one streamed import (TIA_STATISTICS_MAX_IMPORT_BYTES,
	// TIA_STATISTICS_MAX_IMPORT_ROWS).
	Limits domain.Limits
}

// Register declares the settings' flags on fs.
func (c *Config) Register(fs *flag.FlagSet) {
	config.Int64(fs, &c.Limits.MaxBytes, "statistics-max-import-bytes", domain.DefaultLimits.MaxBytes, "largest import accepted, in bytes")
	config.Int64(fs, &c.Limits.MaxRows, "statistics-max-import-rows", domain.DefaultLimits.MaxRows, "most rows one import may have")
}

// Validate names the variable of the first wrong setting.
func (c *Config) Validate() error {
	return errors.Join(
		config.Positive("statistics-max-import-bytes", c.Limits.MaxBytes),
		config.Positive("statistics-max-import-rows", c.Limits.MaxRows),
	)
}

// Component describes the service to a host.
var Component = app.Component{
	Name:       "statistics",
	Migrations: store.Migrations,
	Config:     func() config.Settings { return &Config{} },
	New: func(d app.Deps) (app.Service, error) {
		l := domain.DefaultLimits
		if c, ok := d.Config.(*Config); ok && c != nil {
			l = c.Limits
		}
		return New(d, l), nil
	},
}

// New returns the service with the given import limits.
func New(d app.Deps, l domain.Limits) *Service {
	return &Service{store: store.New(d.DB), relay: d.Relay, now: time.Now, limits: l, grids: map[string]cachedGrid{}}
}

// Service implements tia.statistics.v1.StatisticsService.
type Service struct {
	statisticsv1.UnimplementedStatisticsServiceServer
	store  *store.Store
	relay  *events.Relay
	now    func() time.Time
	limits domain.Limits

	mu    sync.Mutex
	grids map[string]cachedGrid // by reference date
}

// cachedGrid is a snapshot's grid as loaded, valid while the snapshot's
// import time is unchanged.
type cachedGrid struct {
	importTime time.Time
	grid       domain.Grid
	places     domain.PlaceTotals
	// published are the snapshot's figures for everyone but
	// Migrationsverket, perturbed once when the grid is loaded.
	published domain.Published
	keys      domain.Keys
	used      time.Time
	// sums are answers already computed on the grid, by query (the grid
	// never changes, so neither do they); at most maxCachedSums.
	sums map[string][]domain.Row
}

// maxCachedSums bounds the answers kept per snapshot: the groupings the
// county boards' spreadsheets ask for again and again.
const maxCachedSums = 64

// maxCachedGrids bounds the cache (83 kB a snapshot and 210 kB of published
// figures): four years of month ends.
const maxCachedGrids = 48

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	statisticsv1.RegisterStatisticsServiceServer(r, s)
}

// Subscriptions: the service consumes no events.
func (s *Service) Subscriptions() []app.Subscription { return nil }

// notify wakes the relay after a commit that published events.
func (s *Service) notify() {
	if s.relay != nil {
		s.relay.Notify()
	}
}
