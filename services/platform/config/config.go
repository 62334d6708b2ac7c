// Package config reads a binary's settings from TIA_* environment variables,
// with command-line flags taking precedence, so the same binary runs under
// Kubernetes (environment) and by hand (flags).
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tia-platform/tia/services/platform/tlsconfig"
)

// Event retention defaults (see Service).
const (
	// DefaultNATSMaxAge bounds how long a stream keeps an event: the
	// longest outage of a consuming service that loses nothing.
	DefaultNATSMaxAge = 7 * 24 * time.Hour
	// DefaultOutboxRetention is how long published outbox rows are kept.
	DefaultOutboxRetention = 7 * 24 * time.Hour
	// DefaultProcessedRetention is how long processed event ids are kept;
	// it must exceed the streams' maximum age.
	DefaultProcessedRetention = 15 * 24 * time.Hour
	// DefaultTokenKeyRefresh is how often TIA_TOKEN_KEY is read again.
	DefaultTokenKeyRefresh = time.Minute
)

// Settings are a service's own settings: one struct per service, whose
// Register declares a flag per setting (each also read from the TIA_*
// variable of the same name, see EnvVar) and whose Validate names the
// variable of the first wrong value.
type Settings interface {
	Register(fs *flag.FlagSet)
	Validate() error
}

// FromEnv fills s from the TIA_* variables alone (the embedded default,
// which has no command line per service) and validates it.
func FromEnv(s Settings) error {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	s.Register(fs)
	if err := Parse(fs, nil); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}

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
	// NATSReplicas is how many servers of the NATS cluster keep each event
	// stream (TIA_NATS_REPLICAS): 3 on a three-server cluster.
	NATSReplicas int
	// TokenKey is the PEM public key or JWKS file that verifies bearer tokens
	// (TIA_TOKEN_KEY).
	TokenKey string
	// PseudonymKey is the secret key (hex or base64, or a file holding it)
	// of the ids that stand for dossier numbers (TIA_PSEUDONYM_KEY);
	// PseudonymKeyPrevious is the one before it during a rotation
	// (TIA_PSEUDONYM_KEY_PREVIOUS).
	PseudonymKey, PseudonymKeyPrevious string
	// Peers are the gRPC addresses of other services this one calls, e.g.
	// TIA_ACTIVITY_ADDR for the activity registry.
	Peers map[string]*string
	// LogLevel is debug, info, warn or error (TIA_LOG_LEVEL).
	LogLevel slog.Level
	// DrainTimeout bounds how long shutdown waits for calls in flight
	// (TIA_DRAIN_TIMEOUT).
	DrainTimeout time.Duration
	// HealthAddr, when set, serves only grpc.health.v1 in plaintext, for
	// probes that cannot present a client certificate when the API requires
	// mutual TLS (TIA_HEALTH_ADDR).
	HealthAddr string
	// MigrateOnly applies the database migrations and exits, so they can
	// run before a new version serves (TIA_MIGRATE_ONLY).
	MigrateOnly bool
	// NATSMaxAge and NATSMaxBytes bound each event stream
	// (TIA_NATS_MAX_AGE, TIA_NATS_MAX_BYTES; 0: unbounded). A consumer
	// away for longer than the age misses the events that expired.
	NATSMaxAge   time.Duration
	NATSMaxBytes int64
	// OutboxRetention and ProcessedRetention are how long published outbox
	// rows and processed event ids are kept (TIA_OUTBOX_RETENTION,
	// TIA_PROCESSED_EVENTS_RETENTION).
	OutboxRetention    time.Duration
	ProcessedRetention time.Duration
	// TokenKeyRefresh is how often the keys of TokenKey are read again, so
	// a rotated key is used without a restart (TIA_TOKEN_KEY_REFRESH).
	TokenKeyRefresh time.Duration
	// TLS names the certificate files (TIA_TLS_*); mutual TLS when a CA is set.
	TLS tlsconfig.Files
}

// Register declares the flags of s on fs. peers names the services whose
// addresses this binary needs.
func (s *Service) Register(fs *flag.FlagSet, defaultGRPC string, peers ...string) {
	fs.StringVar(&s.GRPCAddr, "grpc-addr", defaultGRPC, "gRPC listen address")
	fs.StringVar(&s.MetricsAddr, "metrics-addr", "", "Prometheus /metrics listen address (off when empty)")
	fs.StringVar(&s.DatabaseDSN, "database-dsn", "", "database DSN: postgres://... or sqlite:<file>")
	fs.StringVar(&s.NATSURL, "nats-url", "nats://127.0.0.1:4222", "NATS URL")
	fs.StringVar(&s.NATSPrefix, "nats-prefix", "", "prefix of event subjects and stream names (to share one NATS)")
	Int(fs, &s.NATSReplicas, "nats-replicas", 1, "how many NATS servers keep each event stream (3 on a three-server cluster)")
	fs.StringVar(&s.TokenKey, "token-key", "", "PEM public key or JWKS file that verifies bearer tokens")
	fs.StringVar(&s.PseudonymKey, "pseudonym-key", "", "secret key (hex/base64, or a file holding it) of the keyed ids that stand for dossier numbers")
	fs.StringVar(&s.PseudonymKeyPrevious, "pseudonym-key-previous", "", "the previous pseudonym key during a rotation")
	fs.TextVar(&s.LogLevel, "log-level", slog.LevelInfo, "log level")
	Duration(fs, &s.DrainTimeout, "drain-timeout", 20*time.Second, "how long shutdown waits for calls in flight")
	fs.StringVar(&s.HealthAddr, "health-addr", "", "plaintext grpc.health.v1 listen address for probes (off when empty)")
	Bool(fs, &s.MigrateOnly, "migrate-only", false, "apply the database migrations and exit")
	Duration(fs, &s.NATSMaxAge, "nats-max-age", DefaultNATSMaxAge, "how long each event stream keeps an event (0: unbounded); above the consumers' longest outage")
	Int64(fs, &s.NATSMaxBytes, "nats-max-bytes", 0, "bytes each event stream keeps at most, oldest discarded first (0: unbounded)")
	Duration(fs, &s.OutboxRetention, "outbox-retention", DefaultOutboxRetention, "how long published outbox rows are kept")
	Duration(fs, &s.ProcessedRetention, "processed-events-retention", DefaultProcessedRetention, "how long processed event ids are kept; above -nats-max-age")
	Duration(fs, &s.TokenKeyRefresh, "token-key-refresh", DefaultTokenKeyRefresh, "how often -token-key (file or https URL) is read again for rotated keys")
	RegisterTLS(fs, &s.TLS)
	s.Peers = map[string]*string{}
	for _, p := range peers {
		s.Peers[p] = fs.String(p+"-addr", "", "gRPC address of the "+p+" service")
	}
}

// RegisterTLS declares the TLS flags (TIA_TLS_CERT, TIA_TLS_KEY, TIA_TLS_CA,
// TIA_TLS_CLIENT_CERT, TIA_TLS_CLIENT_KEY) on fs.
func RegisterTLS(fs *flag.FlagSet, f *tlsconfig.Files) {
	fs.StringVar(&f.Cert, "tls-cert", "", "PEM certificate (chain) this binary serves with (plaintext when empty)")
	fs.StringVar(&f.Key, "tls-key", "", "PEM private key of -tls-cert")
	fs.StringVar(&f.CA, "tls-ca", "", "PEM CA bundle of internal certificates: services require client certificates signed by it (mutual TLS) and calls to services verify against it")
	fs.StringVar(&f.ClientCert, "tls-client-cert", "", "PEM certificate presented when calling services (default -tls-cert)")
	fs.StringVar(&f.ClientKey, "tls-client-key", "", "PEM private key of -tls-client-cert")
}

// Gateway is what the REST edge reads.
type Gateway struct {
	// HTTPAddr is where REST is served (TIA_HTTP_ADDR).
	HTTPAddr string
	// MetricsAddr serves /metrics for Prometheus when set (TIA_METRICS_ADDR).
	MetricsAddr string
	// DrainTimeout bounds how long shutdown waits for requests in flight
	// (TIA_DRAIN_TIMEOUT).
	DrainTimeout time.Duration
	// LogLevel is debug, info, warn or error (TIA_LOG_LEVEL).
	LogLevel slog.Level
	// Backends are the services' gRPC addresses (TIA_ACTIVITY_ADDR, ...):
	// a host:port, a comma-separated list of them (client-side round robin
	// over the instances), or a gRPC target such as dns:///activity:9090.
	Backends map[string]*string
	// TLS: Cert and Key serve HTTPS on the edge; CA (and ClientCert/Key)
	// secure the calls to the services (TIA_TLS_*).
	TLS tlsconfig.Files
	// PublicBaseURL is the edge's address as clients reach it, for absolute
	// links in feeds (TIA_PUBLIC_BASE_URL); http(s)://<http-addr> when empty.
	PublicBaseURL string
	// RateLimit and RateBurst bound each caller's requests per second and
	// burst (TIA_RATE_LIMIT, TIA_RATE_BURST); 0 turns the limit off.
	RateLimit float64
	RateBurst int
	// CORSOrigins are the browser origins allowed to call the API,
	// comma-separated (TIA_CORS_ORIGINS); none when empty.
	CORSOrigins string
	// MaxBodyBytes and MaxImportBytes cap request bodies, imports apart
	// (TIA_MAX_BODY_BYTES, TIA_MAX_IMPORT_BYTES).
	MaxBodyBytes   int64
	MaxImportBytes int64
}

// GatewayBackends are the services the gateway proxies to.
var GatewayBackends = []string{"activity", "statistics", "travel", "notification"}

// Register declares the gateway's flags on fs.
func (g *Gateway) Register(fs *flag.FlagSet) {
	fs.StringVar(&g.HTTPAddr, "http-addr", "127.0.0.1:8080", "REST listen address")
	fs.StringVar(&g.MetricsAddr, "metrics-addr", "", "Prometheus /metrics listen address (off when empty)")
	Duration(fs, &g.DrainTimeout, "drain-timeout", 20*time.Second, "how long shutdown waits for requests in flight")
	fs.TextVar(&g.LogLevel, "log-level", slog.LevelInfo, "log level")
	RegisterTLS(fs, &g.TLS)
	fs.StringVar(&g.PublicBaseURL, "public-base-url", "", "the edge's address as clients reach it, for absolute links in feeds (default http(s)://<http-addr>)")
	fs.Float64Var(&g.RateLimit, "rate-limit", 50, "requests per second per caller (token subject, else address); 0 turns the limit off")
	fs.IntVar(&g.RateBurst, "rate-burst", 200, "requests a caller may make at once above -rate-limit")
	fs.StringVar(&g.CORSOrigins, "cors-origins", "", "comma-separated browser origins allowed to call the API (none when empty)")
	fs.Int64Var(&g.MaxBodyBytes, "max-body-bytes", 1<<20, "largest request body")
	fs.Int64Var(&g.MaxImportBytes, "max-import-bytes", 256<<20, "largest request body of an import (snapshots:import…)")
	g.Backends = map[string]*string{}
	for _, name := range GatewayBackends {
		g.Backends[name] = fs.String(name+"-addr", "", "gRPC address of the "+name+" service (host:port, a comma-separated list, or a gRPC target)")
	}
}

// Check reports the first missing required setting.
func (g *Gateway) Check() error {
	for _, name := range GatewayBackends {
		if *g.Backends[name] == "" {
			return fmt.Errorf("configuration: -%s-addr (%s) is required", name, EnvVar(name+"-addr"))
		}
	}
	return g.TLS.Check()
}

// EnvVar is the environment variable that sets a flag: "grpc-addr" is read
// from TIA_GRPC_ADDR.
func EnvVar(flagName string) string {
	return "TIA_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// EnvVars lists the environment variables of every flag on fs, so that
// deployment manifests can be checked against what a binary reads.
func EnvVars(fs *flag.FlagSet) []string {
	var vars []string
	fs.VisitAll(func(f *flag.Flag) { vars = append(vars, EnvVar(f.Name)) })
	return vars
}

// Parse fills fs from args and TIA_* variables (flag "grpc-addr" reads
// TIA_GRPC_ADDR); flags win. A wrong value is reported with the variable's
// name, e.g. `configuration: TIA_TRAVEL_MAX_COST_ORE: not a whole number: "x"`.
// -h prints every flag with its variable and returns flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("configuration: %w", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		name := EnvVar(f.Name)
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("configuration: %s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}

// Usage prints fs's flags, each with the TIA_* variable that also sets it.
func Usage(fs *flag.FlagSet) func() {
	return func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage of %s (every flag can be set by the environment variable named after it):\n", fs.Name())
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "0s" {
				def = " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(out, "  -%s, %s\n    \t%s%s\n", f.Name, EnvVar(f.Name), f.Usage, def)
		})
	}
}

// Check reports the first missing required setting.
func (s *Service) Check() error {
	switch {
	case s.DatabaseDSN == "":
		return fmt.Errorf("configuration: TIA_DATABASE_DSN (-database-dsn) is required")
	case s.NATSMaxAge < 0:
		return fmt.Errorf("configuration: TIA_NATS_MAX_AGE: must not be negative, got %s", s.NATSMaxAge)
	case s.NATSMaxBytes < 0:
		return fmt.Errorf("configuration: TIA_NATS_MAX_BYTES: must not be negative, got %d", s.NATSMaxBytes)
	case s.OutboxRetention <= 0:
		return fmt.Errorf("configuration: TIA_OUTBOX_RETENTION: must be more than 0, got %s", s.OutboxRetention)
	case s.ProcessedRetention <= 0 || (s.NATSMaxAge > 0 && s.ProcessedRetention <= s.NATSMaxAge):
		// An event still in its stream may be delivered again (a consumer
		// recreated after NATS lost it reads the stream from the start):
		// its id must still be known then.
		return fmt.Errorf("configuration: TIA_PROCESSED_EVENTS_RETENTION: must be longer than TIA_NATS_MAX_AGE (%s), got %s", s.NATSMaxAge, s.ProcessedRetention)
	case s.TokenKeyRefresh <= 0:
		return fmt.Errorf("configuration: TIA_TOKEN_KEY_REFRESH: must be more than 0, got %s", s.TokenKeyRefresh)
	case s.MigrateOnly:
		return s.TLS.Check() // migrations need the database only
	case s.TokenKey == "":
		return fmt.Errorf("configuration: TIA_TOKEN_KEY (-token-key) is required")
	}
	for name, addr := range s.Peers {
		if *addr == "" {
			return fmt.Errorf("configuration: -%s-addr (%s) is required", name, EnvVar(name+"-addr"))
		}
	}
	return s.TLS.Check()
}
