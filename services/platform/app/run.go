package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tia-platform/tia/proto/access"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/grpcserver"
	"github.com/tia-platform/tia/services/platform/logging"
	"github.com/tia-platform/tia/services/platform/telemetry"
)

// Main runs one component as its own process (the production path) and
// exits with status 1 on failure. peers names the services it calls.
func Main(c Component, peers ...string) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := Run(ctx, c, os.Args[1:], peers...); err != nil {
		fmt.Fprintf(os.Stderr, "tia-%s: %v\n", c.Name, err)
		os.Exit(1)
	}
}

// Run is Main without the process: it serves until ctx is done, then drains
// calls in flight and stops background work.
func Run(ctx context.Context, c Component, args []string, peers ...string) error {
	fs := flag.NewFlagSet("tia-"+c.Name, flag.ContinueOnError)
	var cfg config.Service
	cfg.Register(fs, "127.0.0.1:9090", peers...)
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	log := logging.New(os.Stderr, c.Name, cfg.LogLevel)
	tel, err := telemetry.Setup(ctx, "tia-"+c.Name)
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()

	verifier, err := auth.LoadVerifier(cfg.TokenKey)
	if err != nil {
		return err
	}
	nc, err := events.Connect(cfg.NATSURL, "tia-"+c.Name)
	if err != nil {
		return err
	}
	defer nc.Close()

	peerConns := newPeers(cfg.Peers)
	defer peerConns.close()
	host, err := NewHost(log, nc, peerConns.get, WithEventPrefix(cfg.NATSPrefix))
	if err != nil {
		return err
	}
	srv, err := grpcserver.New(grpcserver.Options{Logger: log, Verifier: verifier, IsPublic: access.IsPublic})
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

	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("serving", "grpc", lis.Addr().String())
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

// peers dials other services lazily, once each.
type peers struct {
	addrs map[string]*string
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

func newPeers(addrs map[string]*string) *peers {
	return &peers{addrs: addrs, conns: map[string]*grpc.ClientConn{}}
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
	cc, err := Dial(*addr)
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

// Dial opens a client connection to a TIA service with tracing, round-robin
// over every address the name resolves to (so a DNS name of several
// instances spreads the load), and the default retry policy for transient
// unavailability.
func Dial(addr string) (*grpc.ClientConn, error) {
	cc, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
	)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return cc, nil
}
