// Command gateway is the REST/JSON edge of the production path: it proxies
// to the four services over gRPC.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/tia-platform/tia/gateway"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/cmdutil"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/logging"
	"github.com/tia-platform/tia/services/platform/telemetry"
	"github.com/tia-platform/tia/services/platform/tlsconfig"
)

func main() { cmdutil.Main("tia-gateway", run) }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tia-gateway", flag.ContinueOnError)
	var cfg config.Gateway
	cfg.Register(fs)
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	// TLS on the REST edge (no client certificates asked of the public) and,
	// with a CA, (mutual) TLS to the services.
	edgeTLS, err := tlsconfig.Server(cfg.TLS, false)
	if err != nil {
		return err
	}
	clientTLS, err := tlsconfig.Client(cfg.TLS)
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, "gateway", cfg.LogLevel)
	tel, err := telemetry.Setup(ctx, "tia-gateway")
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()

	var b gateway.Backends
	for name, set := range map[string]*grpc.ClientConnInterface{
		"activity": &b.Activity, "statistics": &b.Statistics, "travel": &b.Travel, "notification": &b.Notification,
	} {
		cc, err := app.DialTLS(*cfg.Backends[name], clientTLS)
		if err != nil {
			return err
		}
		defer cc.Close()
		*set = cc
	}
	opts, err := edgeOptions(cfg, edgeTLS != nil)
	if err != nil {
		return err
	}
	opts.Logger = log
	handler, err := gateway.New(ctx, b, opts)
	if err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		metrics := &http.Server{Addr: cfg.MetricsAddr, Handler: tel.MetricsHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = metrics.ListenAndServe() }()
		defer metrics.Close()
	}
	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: handler, ReadHeaderTimeout: 10 * time.Second, TLSConfig: edgeTLS}
	lis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	errc := make(chan error, 1)
	go func() {
		if edgeTLS != nil {
			errc <- srv.ServeTLS(lis, "", "") // the certificate comes from TLSConfig
		} else {
			errc <- srv.Serve(lis)
		}
	}()
	log.Info("serving", "http", lis.Addr().String(), "tls", edgeTLS != nil, "backend_tls", clientTLS != nil)
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// edgeOptions turns the configuration into the edge's options, checking the
// public base URL and the CORS origins.
func edgeOptions(cfg config.Gateway, tls bool) (gateway.Options, error) {
	base := cfg.PublicBaseURL
	if base == "" {
		scheme := "http"
		if tls {
			scheme = "https"
		}
		base = scheme + "://" + cfg.HTTPAddr
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return gateway.Options{}, fmt.Errorf("configuration: -public-base-url (TIA_PUBLIC_BASE_URL) %q is not an http(s) URL", base)
	}
	var origins []string
	for o := range strings.SplitSeq(cfg.CORSOrigins, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/")) {
			return gateway.Options{}, fmt.Errorf("configuration: -cors-origins (TIA_CORS_ORIGINS): %q is not an origin such as https://app.example.se", o)
		}
		origins = append(origins, strings.TrimSuffix(o, "/"))
	}
	switch {
	case cfg.RateLimit < 0 || cfg.RateBurst < 0:
		return gateway.Options{}, fmt.Errorf("configuration: -rate-limit and -rate-burst (TIA_RATE_LIMIT, TIA_RATE_BURST) must not be negative")
	case cfg.MaxBodyBytes <= 0 || cfg.MaxImportBytes <= 0:
		return gateway.Options{}, fmt.Errorf("configuration: -max-body-bytes and -max-import-bytes (TIA_MAX_BODY_BYTES, TIA_MAX_IMPORT_BYTES) must be positive")
	}
	return gateway.Options{
		PublicBaseURL: strings.TrimSuffix(base, "/"),
		RateLimit:     cfg.RateLimit, RateBurst: cfg.RateBurst,
		CORSOrigins:  origins,
		MaxBodyBytes: cfg.MaxBodyBytes, MaxImportBytes: cfg.MaxImportBytes,
	}, nil
}
