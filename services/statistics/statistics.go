// Package statistics holds Migrationsverket's figures on the target group:
// adults registered in the reception system per kommun, housing type, sex
// and age band, on reference dates, and the planned changes to it. The
// county boards read them to see where activities are needed. This file
// wires the service into a host; grpc.go, import.go and queries.go translate
// the API; the rules live in internal/domain and the tables in
// internal/store.
//
// Every change is one unit of work (package uow): the rows and the events
// others must learn commit together, and the store takes the transaction.
// CreatePlannedChange and ImportSnapshot honour the client's AIP-155
// request_id. Errors leave through the one table Errors, and the service
// renders its own spreadsheets (documents.go).
package statistics

import (
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/uow"
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

// errNoSnapshot: a projection asked for before any snapshot was imported.
var errNoSnapshot = errors.New("no snapshot")

// Errors is the service's one error table. The shared kinds of package
// apierr cover not found (store.ErrNotFound is apierr.ErrNotFound); a
// projection with nothing to start from is FAILED_PRECONDITION.
var Errors = []apierr.Rule{
	{Err: errNoSnapshot, Code: codes.FailedPrecondition, Reason: "NO_SNAPSHOT"},
}

// Component describes the service to a host.
var Component = app.Component{
	Name:       "statistics",
	Migrations: store.Migrations,
	Errors:     Errors,
	Config:     func() config.Settings { return &Config{} },
	New: func(d app.Deps) (app.Service, error) {
		if d.Units == nil {
			return nil, errors.New("statistics: the service needs units of work (app.Deps.Units)")
		}
		l := domain.DefaultLimits
		if c, ok := d.Config.(*Config); ok && c != nil {
			l = c.Limits
		}
		return New(d, l), nil
	},
}

// New returns the service with the given import limits. d.Units must be
// set; d.Clock defaults to the system clock.
func New(d app.Deps, l domain.Limits) *Service {
	c := d.Clock
	if c == nil {
		c = clock.System
	}
	return &Service{store: store.New(d.DB), units: d.Units, clock: c, limits: l, grids: map[string]cachedGrid{}}
}

// Service implements tia.statistics.v1.StatisticsService.
type Service struct {
	statisticsv1.UnimplementedStatisticsServiceServer
	// store reads; writes go through units.
	store  *store.Store
	units  *uow.Runner
	clock  clock.Clock
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
	// answers are tables already computed on the grid, by question (the
	// grid and its published figures never change, so neither do they);
	// answerRows counts their rows and subtotals.
	answers    map[string]domain.Table
	answerRows int
}

// maxCachedAnswers and maxCachedRows bound the answers kept per snapshot:
// the groupings the county boards' spreadsheets ask for again and again
// (a table by län has 21 rows; one by kommun, sex and age band about
// 3,800 with its subtotals). A row takes about 90 bytes, so the answers of
// all maxCachedGrids snapshots stay within about 45 MB.
const (
	maxCachedAnswers = 64
	maxCachedRows    = 10_000
)

// maxCachedGrids bounds the cache (83 kB a snapshot and 210 kB of published
// figures): four years of month ends.
const maxCachedGrids = 48

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	statisticsv1.RegisterStatisticsServiceServer(r, s)
}

// Subscriptions: the service consumes no events.
func (s *Service) Subscriptions() []app.Subscription { return nil }

// Event subjects, derived from the messages' names (events.SubjectOf).
var (
	SubjectSnapshotPublished   = events.SubjectOf(&statisticsv1.SnapshotPublished{})
	SubjectProjectionPublished = events.SubjectOf(&statisticsv1.ProjectionPublished{})
)

// publish puts msg in the outbox of the unit of work under its subject.
func publish(w *uow.Work, msg proto.Message) error {
	if err := w.Publish(events.SubjectOf(msg), msg); err != nil {
		return fmt.Errorf("publish %s: %w", events.TypeOf(msg), err)
	}
	return nil
}
