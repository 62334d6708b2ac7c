// Package embedded runs the whole platform in one process: the four services,
// the REST edge, SQLite files and an embedded NATS JetStream server, all under
// one data folder. It is the zero-set-up default (`make run`) and the way
// tests run the platform in one process. The services are the same
// components that run as separate binaries in production.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tia-platform/tia/gateway"
	"github.com/tia-platform/tia/proto/access"
	"github.com/tia-platform/tia/services/activity"
	"github.com/tia-platform/tia/services/embedded/inproc"
	"github.com/tia-platform/tia/services/notification"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/grpcserver"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/statistics"
	"github.com/tia-platform/tia/services/travel"
)

// Components are the services, in start order.
var Components = []app.Component{activity.Component, statistics.Component, travel.Component, notification.Component}

// Options configure Start.
type Options struct {
	// DataDir holds the SQLite files, the NATS store and the development key.
	DataDir string
	// HTTPAddr and GRPCAddr are the listen addresses; port 0 picks a free one.
	HTTPAddr string
	GRPCAddr string
	Logger   *slog.Logger
	// Gateway configures the REST edge: no rate limit unless set; the feeds'
	// links start with http://<HTTPAddr> unless PublicBaseURL says otherwise;
	// the edge logs through Logger unless it has its own.
	Gateway gateway.Options
	// Clock tells every service the time (the system clock when nil); tests
	// set it to run a path at, say, 23:30 UTC.
	Clock clock.Clock
}

// Platform is a running embedded platform.
type Platform struct {
	// HTTPAddr and GRPCAddr are where it listens.
	HTTPAddr string
	GRPCAddr string
	// Issuer signs development tokens with the data folder's key.
	Issuer *auth.Issuer
	// Channel reaches every service in-process, through the same interceptors
	// as the network server.
	Channel *inproc.Channel
	// Fresh is true when the data folder held nothing before Start.
	Fresh bool

	host  *app.Host
	nats  *server.Server
	nc    *nats.Conn
	grpc  *grpc.Server
	http  *http.Server
	errc  chan error
	close []func()
}

// Start starts everything and returns once the platform serves.
func Start(ctx context.Context, o Options) (_ *Platform, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	p := &Platform{errc: make(chan error, 2)}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	entries, _ := os.ReadDir(o.DataDir)
	p.Fresh = len(entries) == 0
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}

	key, err := auth.DevKey(filepath.Join(o.DataDir, "keys", "dev.pem"))
	if err != nil {
		return nil, err
	}
	p.Issuer = auth.NewIssuer(key, "")
	verifier := auth.NewVerifier(p.Issuer.PublicKeys())

	p.nats, p.nc, err = events.StartEmbedded(filepath.Join(o.DataDir, "nats"))
	if err != nil {
		return nil, err
	}
	p.close = append(p.close, func() { p.nc.Close(); p.nats.Shutdown(); p.nats.WaitForShutdown() })

	opts := grpcserver.Options{Logger: o.Logger, Verifier: verifier, IsPublic: access.IsPublic}
	unary, stream, err := grpcserver.Interceptors(opts)
	if err != nil {
		return nil, err
	}
	p.Channel = inproc.New(inproc.Options{
		Unary: unary, Stream: stream,
		ServerStats: otelgrpc.NewServerHandler(), ClientStats: otelgrpc.NewClientHandler(),
	})
	p.grpc, err = grpcserver.New(opts)
	if err != nil {
		return nil, err
	}

	// Services that call each other do so in-process too.
	// The keyed ids that stand for dossier numbers use the data folder's
	// own secret, made at the first start.
	pkey, err := pseudonym.LoadOrCreate(filepath.Join(o.DataDir, "keys", "pseudonym.key"))
	if err != nil {
		return nil, err
	}
	keyer, err := pseudonym.New(pkey, nil)
	if err != nil {
		return nil, err
	}
	p.host, err = app.NewHost(o.Logger, p.nc, func(string) (grpc.ClientConnInterface, error) { return p.Channel, nil },
		app.WithPseudonymKey(keyer), app.WithClock(o.Clock))
	if err != nil {
		return nil, err
	}
	p.close = append(p.close, func() { _ = p.host.Close() })
	healthpb.RegisterHealthServer(p.grpc, p.host.Health())
	p.Channel.RegisterService(&healthpb.Health_ServiceDesc, p.host.Health())
	for _, c := range Components {
		if c.Name == travel.Component.Name {
			// The travel service asks the activity registry on its own
			// behalf too (background re-checks): give it service tokens.
			c = travel.NewComponent(travel.Options{ServiceToken: travel.IssuedTokens(p.Issuer)})
		}
		dsn := "sqlite:" + filepath.Join(o.DataDir, c.Name+".db")
		if err := p.host.Add(ctx, c, dsn, p.grpc, p.Channel); err != nil {
			return nil, err
		}
	}

	lis, err := net.Listen("tcp", o.GRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("grpc listen: %w", err)
	}
	p.GRPCAddr = lis.Addr().String()
	go func() { p.errc <- p.grpc.Serve(lis) }()
	p.close = append(p.close, func() {
		done := make(chan struct{})
		go func() { p.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.grpc.Stop()
		}
	})

	hl, err := net.Listen("tcp", o.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("http listen: %w", err)
	}
	p.HTTPAddr = hl.Addr().String()
	gw := o.Gateway
	if gw.PublicBaseURL == "" {
		gw.PublicBaseURL = "http://" + p.HTTPAddr
	}
	if gw.Logger == nil {
		gw.Logger = o.Logger
	}
	handler, err := gateway.New(ctx, gateway.Backends{Activity: p.Channel, Statistics: p.Channel, Travel: p.Channel, Notification: p.Channel}, gw)
	if err != nil {
		_ = hl.Close()
		return nil, err
	}
	p.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { p.errc <- p.http.Serve(hl) }()
	p.close = append(p.close, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.http.Shutdown(sctx)
	})
	return p, nil
}

// Err delivers a failure of a server or of background work.
func (p *Platform) Err() <-chan error {
	out := make(chan error, 1)
	go func() {
		select {
		case err := <-p.errc:
			if !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
				out <- err
			}
		case err := <-p.host.Err():
			out <- err
		}
	}()
	return out
}

// Close drains requests in flight and stops everything, in reverse order.
func (p *Platform) Close() {
	for i := len(p.close) - 1; i >= 0; i-- {
		p.close[i]()
	}
	p.close = nil
}

// Token issues a development token for p, valid for a day.
func (p *Platform) Token(pr auth.Principal) (string, error) {
	return p.Issuer.Issue(pr, 24*time.Hour)
}
