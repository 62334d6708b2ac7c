// Package config reads a binary's settings from TIA_* environment variables,
// with command-line flags taking precedence, so the same binary runs under
// Kubernetes (environment) and by hand (flags).
package config

import (
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/peterbourgon/ff/v3"
)

// Service is what every service binary reads.
type Service struct {
	// GRPCAddr is where the gRPC API listens (TIA_GRPC_ADDR).
	GRPCAddr string
	// MetricsAddr serves /metrics for Prometheus when set (TIA_METRICS_ADDR).
	MetricsAddr string
	// DatabaseDSN is the service's own database (TIA_DATABASE_DSN):
	// postgres://... in production, sqlite:<file> for a single machine.
	DatabaseDSN string
	// NATSURL is the NATS cluster carrying events (TIA_NATS_URL).
	NATSURL string
	// NATSPrefix is put before every event subject and stream name, so that
	// several deployments can share one NATS cluster (TIA_NATS_PREFIX).
	NATSPrefix string
	// TokenKey is the PEM public key or JWKS file that verifies bearer tokens
	// (TIA_TOKEN_KEY).
	TokenKey string
	// Peers are the gRPC addresses of other services this one calls, e.g.
	// TIA_ACTIVITY_ADDR for the activity registry.
	Peers map[string]*string
	// LogLevel is debug, info, warn or error (TIA_LOG_LEVEL).
	LogLevel slog.Level
	// DrainTimeout bounds how long shutdown waits for calls in flight
	// (TIA_DRAIN_TIMEOUT).
	DrainTimeout time.Duration
}

// Register declares the flags of s on fs. peers names the services whose
// addresses this binary needs.
func (s *Service) Register(fs *flag.FlagSet, defaultGRPC string, peers ...string) {
	fs.StringVar(&s.GRPCAddr, "grpc-addr", defaultGRPC, "gRPC listen address")
	fs.StringVar(&s.MetricsAddr, "metrics-addr", "", "Prometheus /metrics listen address (off when empty)")
	fs.StringVar(&s.DatabaseDSN, "database-dsn", "", "database DSN: postgres://... or sqlite:<file>")
	fs.StringVar(&s.NATSURL, "nats-url", "nats://127.0.0.1:4222", "NATS URL")
	fs.StringVar(&s.NATSPrefix, "nats-prefix", "", "prefix of event subjects and stream names (to share one NATS)")
	fs.StringVar(&s.TokenKey, "token-key", "", "PEM public key or JWKS file that verifies bearer tokens")
	fs.TextVar(&s.LogLevel, "log-level", slog.LevelInfo, "log level")
	fs.DurationVar(&s.DrainTimeout, "drain-timeout", 20*time.Second, "how long shutdown waits for calls in flight")
	s.Peers = map[string]*string{}
	for _, p := range peers {
		s.Peers[p] = fs.String(p+"-addr", "", "gRPC address of the "+p+" service")
	}
}

// Parse fills fs from args and TIA_* variables (flag "grpc-addr" reads
// TIA_GRPC_ADDR); flags win.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("TIA")); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}

// Check reports the first missing required setting.
func (s *Service) Check() error {
	switch {
	case s.DatabaseDSN == "":
		return fmt.Errorf("configuration: TIA_DATABASE_DSN (-database-dsn) is required")
	case s.TokenKey == "":
		return fmt.Errorf("configuration: TIA_TOKEN_KEY (-token-key) is required")
	}
	for name, addr := range s.Peers {
		if *addr == "" {
			return fmt.Errorf("configuration: -%s-addr is required", name)
		}
	}
	return nil
}
