package app

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	"github.com/tia-platform/tia/proto/access"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/cmdutil"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/grpcserver"
	"github.com/tia-platform/tia/services/platform/logging"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/platform/telemetry"
	"github.com/tia-platform/tia/services/platform/tlsconfig"
)

// Main runs one component as its own process (the production path) and
// exits with status 1 on failure. peers names the services it calls.
func Main(c Component, peers ...string) {
	cmdutil.Main("tia-"+c.Name, func(ctx context.Context, args []string) error { return Run(ctx, c, args, peers...) })
}

// Run is Main without the process: it serves until ctx is done, then drains
// calls in flight and stops background work.
func Run(ctx context.Context, c Component, args []string, peers ...string) error {
	fs := flag.NewFlagSet("tia-"+c.Name, flag.ContinueOnError)
	var cfg config.Service
	cfg.Register(fs, "127.0.0.1:9090", peers...)
	// The service's own settings are flags (and TIA_* variables) of the
	// same binary, listed by -h with the common ones.
	var settings config.Settings
	if c.Config != nil {
		settings = c.Config()
		settings.Register(fs)
	}
	fs.Usage = config.Usage(fs)
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	if settings != nil && !cfg.MigrateOnly {
		if err := settings.Validate(); err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
	}
	if cfg.MigrateOnly {
		return Migrate(ctx, c, cfg.DatabaseDSN)
	}
	log := logging.New(os.Stderr, c.Name, cfg.LogLevel)
	// Libraries that log through the default logger (the NATS connection,
	// for one) then honour the configured level and format too.
	slog.SetDefault(log)
	serverTLS, err := tlsconfig.Server(cfg.TLS, true)
	if err != nil {
		return err
	}
	clientTLS, err := tlsconfig.Client(cfg.TLS)
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, "tia-"+c.Name)
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()

	// Rotated keys are picked up without a restart.
	verifier, err := auth.WatchVerifier(ctx, cfg.TokenKey, cfg.TokenKeyRefresh, log)
	if err != nil {
		return err
	}
	nc, err := events.Connect(cfg.NATSURL, "tia-"+c.Name)
	if err != nil {
		return err
	}
	defer nc.Close()

	peerConns := newPeers(cfg.Peers, clientTLS)
	defer peerConns.close()
	keyer, err := loadPseudonymKey(cfg.PseudonymKey, cfg.PseudonymKeyPrevious)
	if err != nil {
		return err
	}
	host, err := NewHost(log, nc, peerConns.get, WithEventPrefix(cfg.NATSPrefix), WithStreamReplicas(cfg.NATSReplicas), WithPseudonymKey(keyer),
		WithStreamLimits(cfg.NATSMaxAge, cfg.NATSMaxBytes),
		WithPruning(events.PruneOptions{OutboxRetention: cfg.OutboxRetention, ProcessedRetention: cfg.ProcessedRetention}))
	if err != nil {
		return err
	}
	if settings != nil {
		host.settings = map[string]config.Settings{c.Name: settings}
	}
	serverOpts := []grpc.ServerOption{
		// Clients reconnect, and so re-resolve the instances behind a DNS
		// name, at least this often: new instances of a scaled-out service
		// get their share of long-lived connections.
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 2 * time.Minute, MaxConnectionAgeGrace: 30 * time.Second}),
	}
	if serverTLS != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(serverTLS)))
	}
	srv, err := grpcserver.New(grpcserver.Options{Logger: log, Verifier: verifier, IsPublic: access.IsPublic}, serverOpts...)
	if err != nil {
		return err
	}
	healthpb.RegisterHealthServer(srv, host.Health())
	if err := host.Add(ctx, c, cfg.DatabaseDSN, srv); err != nil {
		host.Close()
		return err
	}
	defer host.Close()

	if cfg.MetricsAddr != "" {
		metrics := &http.Server{Addr: cfg.MetricsAddr, Handler: tel.MetricsHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := metrics.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		defer metrics.Close()
	}

	if cfg.HealthAddr != "" {
		// Health only, in plaintext: for probes (Kubernetes' gRPC probe)
		// that cannot present a client certificate.
		hlis, err := net.Listen("tcp", cfg.HealthAddr)
		if err != nil {
			return fmt.Errorf("listen health: %w", err)
		}
		hsrv := grpc.NewServer()
		healthpb.RegisterHealthServer(hsrv, host.Health())
		go func() { _ = hsrv.Serve(hlis) }()
		defer hsrv.Stop()
	}

	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("serving", "grpc", lis.Addr().String(), "tls", serverTLS != nil, "mtls", serverTLS != nil && cfg.TLS.CA != "")
	serveCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case err := <-host.Err():
			log.Error("background work failed", "err", err)
			cancel()
		case <-serveCtx.Done():
		}
	}()
	return grpcserver.Serve(serveCtx, srv, lis, cfg.DrainTimeout)
}

// Migrate applies the platform's and c's migrations to the database at dsn
// and returns: what -migrate-only runs before a new version serves.
func Migrate(ctx context.Context, c Component, dsn string) error {
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	defer d.Close()
	if err := events.Migrate(ctx, d); err != nil {
		return fmt.Errorf("%s: platform tables: %w", c.Name, err)
	}
	if err := db.Migrate(ctx, d, c.Migrations, c.Name+"_migrations"); err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	return nil
}

// peers dials other services lazily, once each.
type peers struct {
	addrs map[string]*string
	tls   *tls.Config
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

func newPeers(addrs map[string]*string, tlsCfg *tls.Config) *peers {
	return &peers{addrs: addrs, tls: tlsCfg, conns: map[string]*grpc.ClientConn{}}
}

func (p *peers) get(name string) (grpc.ClientConnInterface, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cc, ok := p.conns[name]; ok {
		return cc, nil
	}
	addr, ok := p.addrs[name]
	if !ok || *addr == "" {
		return nil, fmt.Errorf("no address configured for the %s service", name)
	}
	cc, err := DialTLS(*addr, p.tls)
	if err != nil {
		return nil, err
	}
	p.conns[name] = cc
	return cc, nil
}

func (p *peers) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cc := range p.conns {
		cc.Close()
	}
}

// Dial opens a plaintext client connection to a TIA service; see DialTLS.
func Dial(addr string) (*grpc.ClientConn, error) { return DialTLS(addr, nil) }

// DialTLS opens a client connection to a TIA service with tracing,
// round-robin load balancing and retries of UNAVAILABLE calls that are safe
// to repeat (retry.go). addr is a
// host:port, a gRPC target (dns:///activity:9090 resolves every instance
// behind a headless Kubernetes Service), or a comma-separated list of
// host:port, one per instance. With tlsCfg the connection uses TLS (mutual
// when tlsCfg has a client certificate); nil means plaintext.
func DialTLS(addr string, tlsCfg *tls.Config) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithDefaultServiceConfig(serviceConfig()),
		grpc.WithChainUnaryInterceptor(fillRequestID),
		// Reconnect within seconds to an instance that comes back (a
		// replaced instance on the same address), not after minutes.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 250 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
	}
	target := addr
	if list := splitAddrs(addr); len(list) > 1 {
		// A fixed list of instances: a resolver of its own per connection.
		r := manual.NewBuilderWithScheme("tia-static")
		state := resolver.State{}
		for _, a := range list {
			state.Endpoints = append(state.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: a}}})
		}
		r.InitialState(state)
		// The authority (and TLS server name) is the first instance's host.
		target = r.Scheme() + ":///" + list[0]
		opts = append(opts, grpc.WithResolvers(r))
	}
	cc, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return cc, nil
}

func splitAddrs(addr string) []string {
	var list []string
	for _, a := range strings.Split(addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			list = append(list, a)
		}
	}
	return list
}

// loadPseudonymKey reads TIA_PSEUDONYM_KEY (and the previous key during a
// rotation); nil when unset.
func loadPseudonymKey(current, previous string) (*pseudonym.Keyer, error) {
	key, err := pseudonym.Load(current)
	if err != nil {
		return nil, fmt.Errorf("configuration: TIA_PSEUDONYM_KEY: %w", err)
	}
	if key == nil {
		return nil, nil
	}
	prev, err := pseudonym.Load(previous)
	if err != nil {
		return nil, fmt.Errorf("configuration: TIA_PSEUDONYM_KEY_PREVIOUS: %w", err)
	}
	k, err := pseudonym.New(key, prev)
	if err != nil {
		return nil, fmt.Errorf("configuration: TIA_PSEUDONYM_KEY: %w", err)
	}
	return k, nil
}
