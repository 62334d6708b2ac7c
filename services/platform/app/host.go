package app

import (
	"context"
	"crypto/rand"
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

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/platform/uow"
)

// Host runs components in one process: it opens and migrates each one's
// database, relays its outbox, runs its consumers, and keeps the gRPC health
// status of its services true to whether they can serve calls.
//
// Health follows Kubernetes practice. The service name "liveness" is
// SERVING while the process works, whatever its dependencies do. Readiness
// (the empty name and each gRPC service's name) is SERVING while the
// component's own database answers: NATS is not needed to serve calls, as
// events wait in the outbox. Nor is NATS needed to start: streams are
// created and the relay and consumers started in the background, retrying
// with back-off until NATS answers.
type Host struct {
	log      *slog.Logger
	nc       *nats.Conn
	js       jetstream.JetStream
	health   *health.Server
	peer     func(string) (grpc.ClientConnInterface, error)
	prefix   string
	replicas int
	maxAge   time.Duration
	maxBytes int64
	limits   bool // WithStreamLimits was given
	prune    events.PruneOptions
	// settings are components' own settings already parsed (by Run, from
	// the command line); Add reads the others from the environment.
	settings map[string]config.Settings
	// unregister stop the components' metrics on Close.
	unregister []func() error
	// pseudonyms and clock are given to every component.
	pseudonyms *pseudonym.Keyer
	clock      clock.Clock

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

// WithStreamLimits bounds the host's event streams to events younger than
// maxAge and to maxBytes of storage each (0: no bound).
func WithStreamLimits(maxAge time.Duration, maxBytes int64) HostOption {
	return func(h *Host) { h.maxAge, h.maxBytes, h.limits = maxAge, maxBytes, true }
}

// WithPruning sets how long delivered outbox rows and processed event ids
// are kept, and how many rows one delete removes (zero fields: defaults).
func WithPruning(o events.PruneOptions) HostOption {
	return func(h *Host) { h.prune = o }
}

// WithPseudonymKey sets the key of the ids that stand for dossier numbers
// (TIA_PSEUDONYM_KEY). Without it a host makes a random key, which suits
// tests only: pseudonyms then change with every start.
func WithPseudonymKey(k *pseudonym.Keyer) HostOption {
	return func(h *Host) { h.pseudonyms = k }
}

// WithClock sets the clock the components tell the time and the day by.
func WithClock(c clock.Clock) HostOption {
	return func(h *Host) { h.clock = c }
}

func (h *Host) keyer() (*pseudonym.Keyer, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pseudonyms == nil {
		key := make([]byte, pseudonym.KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		k, err := pseudonym.New(key, nil)
		if err != nil {
			return nil, err
		}
		h.log.Warn("no pseudonym key configured (TIA_PSEUDONYM_KEY): using a random one until restart")
		h.pseudonyms = k
	}
	return h.pseudonyms, nil
}

// Liveness is the grpc.health.v1 service name that reports only whether the
// process works (for liveness probes).
const Liveness = "liveness"

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
	if h.pseudonyms != nil {
		// Every instance signs page tokens with the deployment's secret, so
		// a token from one instance is good at the next.
		listing.SetTokenKey(h.pseudonyms.Derive("page-token"))
	}
	h.health.SetServingStatus(Liveness, healthpb.HealthCheckResponse_SERVING)
	h.go_(h.watchHealth)
	return h, nil
}

// Health is the grpc.health.v1 server reporting on every added service.
// Register it on each server or channel that carries them.
func (h *Host) Health() healthpb.HealthServer { return h.health }

// Add starts component c on the database at dsn and registers its gRPC
// services on every registrar. The component's own settings
// (Component.Config) are read from the TIA_* variables unless Run parsed
// them from the command line.
func (h *Host) Add(ctx context.Context, c Component, dsn string, regs ...grpc.ServiceRegistrar) error {
	log := h.log.With("component", c.Name)
	settings, err := h.componentSettings(c)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	if err := events.Migrate(ctx, d); err != nil {
		d.Close()
		return fmt.Errorf("%s: platform tables: %w", c.Name, err)
	}
	if err := uow.Migrate(ctx, d); err != nil {
		d.Close()
		return fmt.Errorf("%s: platform tables: %w", c.Name, err)
	}
	if err := audit.Migrate(ctx, d); err != nil {
		d.Close()
		return fmt.Errorf("%s: platform tables: %w", c.Name, err)
	}
	if err := db.Migrate(ctx, d, c.Migrations, c.Name+"_migrations"); err != nil {
		d.Close()
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	relay := events.NewRelay(d, h.js, events.WithRelayLogger(log), events.WithSubjectPrefix(h.prefix))
	keyer, err := h.keyer()
	if err != nil {
		d.Close()
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	trail := audit.New(d, keyer)
	svc, err := c.New(Deps{
		DB: d, Relay: relay, Logger: log, Peer: h.peer, Config: settings,
		Units: uow.New(d, relay, trail), Audit: trail, Pseudonyms: keyer, Clock: h.clock,
	})
	if err != nil {
		d.Close()
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	// Every method's errors pass through the component's one table.
	errs := apierr.Table{Domain: c.Name + ".tia", Rules: c.Errors, Log: log}
	rec := &recorder{}
	svc.Register(rec)
	for _, r := range regs {
		r = apierr.Registrar(r, errs)
		if p, ok := svc.(Preauthorizing); ok {
			r = preauthRegistrar(r, p, errs)
		}
		svc.Register(r)
	}
	h.go_(func(ctx context.Context) error { return h.relayWhenStreamExists(ctx, log, c.Name, relay) })
	h.go_(events.NewPruner(d, h.prune, log).Run)
	h.registerMetrics(log, c.Name, d)
	if r, ok := svc.(Runner); ok {
		h.go_(r.Run)
	}
	for _, sub := range svc.Subscriptions() {
		// The consumer creates the stream and itself in the background,
		// retrying while NATS is away.
		stream := h.stream(sub.Producer)
		subjects := make([]string, len(sub.Subjects))
		for i, subj := range sub.Subjects {
			subjects[i] = h.prefix + subj
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

// stream is the host's stream of a producer, with its prefix, replicas and
// limits (by default events older than config.DefaultNATSMaxAge expire).
func (h *Host) stream(producer string) events.Stream {
	maxAge := h.maxAge
	if !h.limits {
		maxAge = config.DefaultNATSMaxAge
	}
	return events.StreamFor(producer).WithPrefix(h.prefix).WithReplicas(h.replicas).WithLimits(maxAge, h.maxBytes)
}

// registerMetrics reports the outbox backlog and the connection pool of a
// component's database.
func (h *Host) registerMetrics(log *slog.Logger, name string, d *sqlx.DB) {
	for _, register := range []func(*sqlx.DB, string) (func() error, error){events.RegisterOutboxMetrics, db.RegisterPoolMetrics} {
		unregister, err := register(d, name)
		if err != nil {
			log.Warn("metrics unavailable", "error", err)
			continue
		}
		h.mu.Lock()
		h.unregister = append(h.unregister, unregister)
		h.mu.Unlock()
	}
}

// componentSettings returns c's own settings: those Run parsed, or else
// read from the environment and validated.
func (h *Host) componentSettings(c Component) (config.Settings, error) {
	if c.Config == nil {
		return nil, nil
	}
	h.mu.Lock()
	s, ok := h.settings[c.Name]
	h.mu.Unlock()
	if ok {
		return s, nil
	}
	s = c.Config()
	if err := config.FromEnv(s); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	return s, nil
}

// relayWhenStreamExists creates the component's stream, retrying with
// back-off while NATS is away (writes meanwhile wait in the outbox), then
// relays the outbox until ctx ends.
func (h *Host) relayWhenStreamExists(ctx context.Context, log *slog.Logger, name string, relay *events.Relay) error {
	stream := h.stream(name)
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := events.EnsureStream(sctx, h.js, stream)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		// The first failure is worth a warning; the repeats of one outage
		// are not.
		level := slog.LevelDebug
		if attempt == 1 {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "event stream not created yet; the outbox keeps the events and the stream is retried", "stream", stream.Name, "error", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
	events.CheckServerVersion(log, h.nc)
	return relay.Run(ctx)
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
	for _, unregister := range h.unregister {
		errs = append(errs, unregister())
	}
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

// watchHealth re-checks the databases every few seconds, so readiness
// follows a database outage and its end.
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
	all := healthpb.HealthCheckResponse_SERVING
	for _, p := range parts {
		st := healthpb.HealthCheckResponse_SERVING
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := p.db.PingContext(pctx)
		cancel()
		if err != nil {
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
