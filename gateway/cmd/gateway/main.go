// Command gateway is the REST/JSON edge of the production path: it proxies
// to the four services over gRPC.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/tia-platform/tia/gateway"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/logging"
	"github.com/tia-platform/tia/services/platform/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "tia-gateway: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tia-gateway", flag.ContinueOnError)
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "REST listen address")
	metricsAddr := fs.String("metrics-addr", "", "Prometheus /metrics listen address (off when empty)")
	drain := fs.Duration("drain-timeout", 20*time.Second, "how long shutdown waits for requests in flight")
	addrs := map[string]*string{}
	for _, name := range []string{"activity", "statistics", "travel", "notification"} {
		addrs[name] = fs.String(name+"-addr", "", "gRPC address of the "+name+" service")
	}
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	log := logging.New(os.Stderr, "gateway", slog.LevelInfo)
	tel, err := telemetry.Setup(ctx, "tia-gateway")
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()

	var b gateway.Backends
	for name, set := range map[string]*grpc.ClientConnInterface{
		"activity": &b.Activity, "statistics": &b.Statistics, "travel": &b.Travel, "notification": &b.Notification,
	} {
		if *addrs[name] == "" {
			return fmt.Errorf("-%s-addr (TIA_%s_ADDR) is required", name, strings.ToUpper(name))
		}
		cc, err := app.Dial(*addrs[name])
		if err != nil {
			return err
		}
		defer cc.Close()
		*set = cc
	}
	handler, err := gateway.New(ctx, b)
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		metrics := &http.Server{Addr: *metricsAddr, Handler: tel.MetricsHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = metrics.ListenAndServe() }()
		defer metrics.Close()
	}
	srv := &http.Server{Addr: *httpAddr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("serving", "http", *httpAddr)
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}
