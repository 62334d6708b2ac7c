package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
)

// Host runs components in one process: it opens and migrates each one's
// database, relays its outbox, runs its consumers, and keeps the gRPC health
// status of its services true to whether the database and NATS answer.
type Host struct {
	log      *slog.Logger
	nc       *nats.Conn
	js       jetstream.JetStream
	health   *health.Server
	peer     func(string) (grpc.ClientConnInterface, error)
	prefix   string
	replicas int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   chan error

	mu    sync.Mutex
	parts []*part
}

type part struct {
	name     string
	db       *sqlx.DB
	services []string
}

// HostOption configures a host.
type HostOption func(*Host)

// WithEventPrefix puts every event subject and stream of the host under
// prefix, so that several deployments (or test runs) can share one NATS.
func WithEventPrefix(prefix string) HostOption {
	return func(h *Host) { h.prefix = prefix }
}

// WithStreamReplicas keeps the host's event streams on n servers of a NATS
// cluster (0: the server default of one).
func WithStreamReplicas(n int) HostOption {
	return func(h *Host) { h.replicas = n }
}

// NewHost returns a host whose background work runs until Close. peer
// resolves other services for Deps.Peer; it may be nil when no component
// calls another.
func NewHost(log *slog.Logger, nc *nats.Conn, peer func(string) (grpc.ClientConnInterface, error), opts ...HostOption) (*Host, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Host{
		log: log, nc: nc, js: js, health: health.NewServer(), peer: peer,
		ctx: ctx, cancel: cancel, errs: make(chan error, 16),
	}
	for _, opt := range opts {
		opt(h)
	}
	if h.peer == nil {
		h.peer = func(name string) (grpc.ClientConnInterface, error) {
			return nil, fmt.Errorf("no connection to the %s service is configured", name)
		}
	}
	h.go_(h.watchHealth)
	return h, nil
}

// Health is the grpc.health.v1 server reporting on every added service.
// Register it on each server or channel that carries them.
func (h *Host) Health() healthpb.HealthServer { return h.health }

// Add starts component c on the database at dsn and registers its gRPC
// services on every registrar.
func (h *Host) Add(ctx context.Context, c Component, dsn string, regs ...grpc.ServiceRegistrar) error {
	log := h.log.With("component", c.Name)
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	if err := events.Migrate(ctx, d); err != nil {
		d.Close()
		return fmt.Errorf("%s: platform tables: %w", c.Name, err)
	}
	if err := db.Migrate(ctx, d, c.Migrations, c.Name+"_migrations"); err != nil {
		d.Close()
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	if err := events.EnsureStream(ctx, h.js, events.StreamFor(c.Name).WithPrefix(h.prefix).WithReplicas(h.replicas)); err != nil {
		d.Close()
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	relay := events.NewRelay(d, h.js, events.WithRelayLogger(log), events.WithSubjectPrefix(h.prefix))
	svc, err := c.New(Deps{DB: d, Relay: relay, Logger: log, Peer: h.peer})
	if err != nil {
		d.Close()
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	rec := &recorder{}
	svc.Register(rec)
	for _, r := range regs {
		svc.Register(r)
	}
	h.go_(relay.Run)
	if r, ok := svc.(Runner); ok {
		h.go_(r.Run)
	}
	for _, sub := range svc.Subscriptions() {
		stream := events.StreamFor(sub.Producer).WithPrefix(h.prefix).WithReplicas(h.replicas)
		subjects := make([]string, len(sub.Subjects))
		for i, subj := range sub.Subjects {
			subjects[i] = h.prefix + subj
		}
		if err := events.EnsureStream(ctx, h.js, stream); err != nil {
			d.Close()
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		consumer := events.NewConsumer(d, h.js, c.Name+"-from-"+sub.Producer, stream, subjects, sub.Handler,
			events.WithConcurrency(sub.Concurrency), events.WithBatch(sub.Batch), events.WithConsumerLogger(log))
		h.go_(consumer.Run)
	}
	h.mu.Lock()
	h.parts = append(h.parts, &part{name: c.Name, db: d, services: rec.names})
	h.mu.Unlock()
	h.checkHealth(ctx)
	log.Info("component started", "services", rec.names)
	return nil
}

// Err delivers the first failure of background work.
func (h *Host) Err() <-chan error { return h.errs }

// Close stops relays and consumers, reports NOT_SERVING, and closes the
// databases.
func (h *Host) Close() error {
	h.health.Shutdown()
	h.cancel()
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for _, p := range h.parts {
		errs = append(errs, p.db.Close())
	}
	return errors.Join(errs...)
}

func (h *Host) go_(fn runFunc) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if err := fn(h.ctx); err != nil && h.ctx.Err() == nil {
			select {
			case h.errs <- err:
			default:
			}
		}
	}()
}

// watchHealth re-checks dependencies every few seconds, so readiness follows
// a database or NATS outage and its end.
func (h *Host) watchHealth(ctx context.Context) error {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			h.checkHealth(ctx)
		}
	}
}

func (h *Host) checkHealth(ctx context.Context) {
	h.mu.Lock()
	parts := append([]*part(nil), h.parts...)
	h.mu.Unlock()
	natsUp := h.nc.IsConnected()
	all := healthpb.HealthCheckResponse_SERVING
	for _, p := range parts {
		st := healthpb.HealthCheckResponse_SERVING
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := p.db.PingContext(pctx)
		cancel()
		if err != nil || !natsUp {
			st = healthpb.HealthCheckResponse_NOT_SERVING
			all = st
		}
		for _, s := range p.services {
			h.health.SetServingStatus(s, st)
		}
	}
	h.health.SetServingStatus("", all)
}

// recorder learns the names of the services a component registers.
type recorder struct{ names []string }

func (r *recorder) RegisterService(desc *grpc.ServiceDesc, _ any) {
	r.names = append(r.names, desc.ServiceName)
}
