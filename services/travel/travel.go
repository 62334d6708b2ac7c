// Package travel is Migrationsverket's travel compensation (reseersättning):
// consultations (samråd) and route decisions between kommuner, claims with
// their automatic checks and review, payment runs that pay every approved
// claim exactly once with an ISO 20022 payment file, and reports on lead
// time and on use as intended. This file wires the service into a host;
// grpc.go and the other top-level files translate the API; the rules live in
// internal/domain and the tables in internal/store.
package travel

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// Event subjects the service publishes, derived from the messages' names.
var (
	SubjectRouteDecided        = events.SubjectOf(&travelv1.RouteDecided{})
	SubjectRouteRevoked        = events.SubjectOf(&travelv1.RouteRevoked{})
	SubjectConsultationOpened  = events.SubjectOf(&travelv1.ConsultationOpened{})
	SubjectConsultationDecided = events.SubjectOf(&travelv1.ConsultationDecided{})
	SubjectClaimDecided        = events.SubjectOf(&travelv1.ClaimDecided{})
	SubjectClaimPaid           = events.SubjectOf(&travelv1.ClaimPaid{})
)

// subjectParticipationEnded is the registry's event travel consumes.
var subjectParticipationEnded = events.SubjectOf(&activityv1.ParticipationEnded{})

// Errors is the service's one error table. The shared kinds of package
// apierr cover not found (store.ErrNotFound is apierr.ErrNotFound),
// permission denied and aborted; a change that lost a race with another is
// ABORTED.
var Errors = []apierr.Rule{
	{Err: store.ErrConflict, Code: codes.Aborted, Reason: "CONCURRENT_CHANGE"},
	{Err: store.ErrExists, Code: codes.AlreadyExists, Reason: "ALREADY_EXISTS"},
}

// ServicePrincipal is who the travel service is when it asks the activity
// registry on its own behalf (background re-checks).
var ServicePrincipal = auth.Principal{Subject: "tia-travel", Role: auth.RoleMigrationsverket}

// Options configure the service beyond what the host gives it. Zero fields
// take their defaults or the TIA_* environment variables named.
type Options struct {
	// ServiceToken returns a bearer token the activity registry accepts,
	// for calls the service makes on its own behalf. Defaults: the token in
	// TIA_SERVICE_TOKEN, or tokens issued with the Ed25519 private key (PEM)
	// in the file TIA_SERVICE_KEY. Without any, calls forward the caller's
	// token and background re-checks wait.
	ServiceToken func(context.Context) (string, error)
	// Rules of the claim checks: TIA_TRAVEL_MAX_COST_ORE (50000) and
	// TIA_TRAVEL_SUBMIT_WITHIN_DAYS (90).
	Rules domain.Rules
	// Reports: TIA_TRAVEL_TARGET_DAYS (14), TIA_TRAVEL_WARN_DAYS (3).
	Reports domain.ReportRules
	// RecheckInterval between re-checks of pending claims
	// (TIA_TRAVEL_RECHECK_INTERVAL, 30s).
	RecheckInterval time.Duration
	// PaymentBatch claims per payment transaction (TIA_TRAVEL_PAYMENT_BATCH, 1000).
	PaymentBatch int
	// PaymentDir, when set, receives each run's payment file
	// (TIA_TRAVEL_PAYMENT_DIR).
	PaymentDir string
	// Debtor is the paying account (TIA_TRAVEL_DEBTOR_IBAN, _BIC, _NAME).
	Debtor domain.Debtor
	// RegistryTimeout bounds one CheckCertificate call (2s);
	// RegistryAttempts is how many are made (3).
	RegistryTimeout  time.Duration
	RegistryAttempts int
	// Now replaces the clock in tests (default: the host's clock).
	Now func() time.Time
	// ClaimRetention is how long after submission a finished claim keeps
	// the claimant's dossier number (TIA_TRAVEL_CLAIM_RETENTION_DAYS, 730
	// days); RetentionEvery how often the retention job runs (a day).
	ClaimRetention time.Duration
	RetentionEvery time.Duration
}

// Component describes the service to a host, configured from the
// environment.
var Component = NewComponent(Options{})

// NewComponent returns the service's component with o.
func NewComponent(o Options) app.Component {
	return app.Component{
		Name:       "travel",
		Migrations: store.Migrations,
		Errors:     Errors,
		Config:     func() config.Settings { return &Config{} },
		New: func(d app.Deps) (app.Service, error) {
			if d.Units == nil || d.Audit == nil {
				return nil, errors.New("travel: the service needs units of work and an audit trail (app.Deps.Units, Audit)")
			}
			clk := clock.Clock(o.Now)
			if clk == nil {
				clk = d.Clock
			}
			if clk == nil {
				clk = clock.System
			}
			cfg, _ := d.Config.(*Config)
			o, err := o.withDefaults(cfg)
			if err != nil {
				return nil, err
			}
			log := d.Logger
			if log == nil {
				log = slog.Default()
			}
			return newService(d, o, clk, log), nil
		},
	}
}

// Config is the service's own configuration: flags of the binary, each also
// read from the TIA_* variable of the same name (see config.Parse); the
// embedded default reads the variables alone.
type Config struct {
	// MaxCostOre and SubmitWithinDays are the claim rules
	// (TIA_TRAVEL_MAX_COST_ORE, TIA_TRAVEL_SUBMIT_WITHIN_DAYS).
	MaxCostOre       int64
	SubmitWithinDays int
	// TargetDays and WarnDays are the payment-time target of the reports
	// (TIA_TRAVEL_TARGET_DAYS, TIA_TRAVEL_WARN_DAYS).
	TargetDays, WarnDays int
	// RecheckInterval between re-checks of pending claims
	// (TIA_TRAVEL_RECHECK_INTERVAL).
	RecheckInterval time.Duration
	// PaymentBatch is claims per payment transaction (TIA_TRAVEL_PAYMENT_BATCH).
	PaymentBatch int
	// PaymentDir receives each run's payment file when set
	// (TIA_TRAVEL_PAYMENT_DIR).
	PaymentDir string
	// Debtor is the paying account (TIA_TRAVEL_DEBTOR_IBAN, _BIC, _NAME).
	Debtor domain.Debtor
	// ClaimRetentionDays is how long after submission a finished claim keeps
	// the claimant's dossier number (TIA_TRAVEL_CLAIM_RETENTION_DAYS).
	ClaimRetentionDays int
	// ServiceToken is a fixed bearer token for the service's own calls to
	// the activity registry (TIA_SERVICE_TOKEN); ServiceKey a file with the
	// Ed25519 private key (PKCS#8 PEM) it issues them with instead
	// (TIA_SERVICE_KEY).
	ServiceToken, ServiceKey string

	serviceKey ed25519.PrivateKey // ServiceKey, read by Validate
}

// Register declares the settings' flags on fs.
func (c *Config) Register(fs *flag.FlagSet) {
	config.Int64(fs, &c.MaxCostOre, "travel-max-cost-ore", domain.DefaultRules.MaxCostOre, "highest cost of a trip in öre")
	config.Int(fs, &c.SubmitWithinDays, "travel-submit-within-days", domain.DefaultRules.SubmitWithinDays, "days after the journey a claim may be submitted")
	config.Int(fs, &c.TargetDays, "travel-target-days", domain.DefaultReportRules.TargetDays, "target days from claim submission to payment")
	config.Int(fs, &c.WarnDays, "travel-warn-days", domain.DefaultReportRules.WarnDays, "days before the target at which unpaid claims count as at risk")
	config.Duration(fs, &c.RecheckInterval, "travel-recheck-interval", 30*time.Second, "how often pending claims are re-checked against the activity registry")
	config.Int(fs, &c.PaymentBatch, "travel-payment-batch", 1000, "claims per payment transaction")
	config.Int(fs, &c.ClaimRetentionDays, "travel-claim-retention-days", 730, "days after submission that a paid or rejected claim keeps the claimant's dossier number")
	fs.StringVar(&c.PaymentDir, "travel-payment-dir", "", "directory receiving each payment run's file (off when empty)")
	fs.StringVar(&c.Debtor.IBAN, "travel-debtor-iban", domain.DefaultDebtor.IBAN, "IBAN of the paying account")
	fs.StringVar(&c.Debtor.BIC, "travel-debtor-bic", domain.DefaultDebtor.BIC, "BIC of the paying account")
	fs.StringVar(&c.Debtor.Name, "travel-debtor-name", domain.DefaultDebtor.Name, "name of the paying account's holder")
	fs.StringVar(&c.ServiceToken, "service-token", "", "fixed bearer token for travel's own calls to the activity registry (set it by the environment variable, from a secret)")
	fs.StringVar(&c.ServiceKey, "service-key", "", "file with the Ed25519 private key (PKCS#8 PEM) travel issues tokens for its own calls with")
}

// Validate names the variable of the first wrong setting; it also reads
// TIA_SERVICE_KEY.
func (c *Config) Validate() error {
	err := errors.Join(
		config.Positive("travel-max-cost-ore", c.MaxCostOre),
		config.Positive("travel-submit-within-days", c.SubmitWithinDays),
		config.Positive("travel-target-days", c.TargetDays),
		config.Positive("travel-recheck-interval", c.RecheckInterval),
		config.Positive("travel-payment-batch", c.PaymentBatch),
		config.Positive("travel-claim-retention-days", c.ClaimRetentionDays),
	)
	if c.WarnDays < 0 {
		err = errors.Join(err, fmt.Errorf("TIA_TRAVEL_WARN_DAYS: must not be negative, got %d", c.WarnDays))
	}
	for flagName, v := range map[string]string{"travel-debtor-iban": c.Debtor.IBAN, "travel-debtor-bic": c.Debtor.BIC, "travel-debtor-name": c.Debtor.Name} {
		if v == "" {
			err = errors.Join(err, fmt.Errorf("%s: must not be empty", config.EnvVar(flagName)))
		}
	}
	if err != nil {
		return err
	}
	if c.ServiceToken == "" && c.ServiceKey != "" {
		key, kerr := readServiceKey(c.ServiceKey)
		if kerr != nil {
			return fmt.Errorf("TIA_SERVICE_KEY: %w", kerr)
		}
		c.serviceKey = key
	}
	return nil
}

// withDefaults fills o's zero fields from cfg; without cfg (a service built
// without a host) from the TIA_* variables.
func (o Options) withDefaults(cfg *Config) (Options, error) {
	if cfg == nil {
		cfg = &Config{}
		if err := config.FromEnv(cfg); err != nil {
			return o, err
		}
	}
	if o.Rules == (domain.Rules{}) {
		o.Rules = domain.Rules{MaxCostOre: cfg.MaxCostOre, SubmitWithinDays: cfg.SubmitWithinDays}
	}
	if o.Reports == (domain.ReportRules{}) {
		o.Reports = domain.DefaultReportRules
		o.Reports.TargetDays, o.Reports.WarnDays = cfg.TargetDays, cfg.WarnDays
	}
	if o.RecheckInterval == 0 {
		o.RecheckInterval = cfg.RecheckInterval
	}
	if o.PaymentBatch == 0 {
		o.PaymentBatch = cfg.PaymentBatch
	}
	if o.PaymentDir == "" {
		o.PaymentDir = cfg.PaymentDir
	}
	if o.Debtor == (domain.Debtor{}) {
		o.Debtor = cfg.Debtor
	}
	if o.RegistryTimeout == 0 {
		o.RegistryTimeout = 2 * time.Second
	}
	if o.RegistryAttempts == 0 {
		o.RegistryAttempts = 3
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ClaimRetention == 0 {
		o.ClaimRetention = time.Duration(cfg.ClaimRetentionDays) * 24 * time.Hour
	}
	if o.ServiceToken == nil {
		switch {
		case cfg.ServiceToken != "":
			tok := cfg.ServiceToken
			o.ServiceToken = func(context.Context) (string, error) { return tok, nil }
		case cfg.serviceKey != nil:
			o.ServiceToken = IssuedTokens(auth.NewIssuer(cfg.serviceKey, ""))
		}
	}
	return o, nil
}

// readServiceKey reads an Ed25519 private key (PKCS#8 PEM).
func readServiceKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM block in %s", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("want an Ed25519 key, got %T", parsed)
	}
	return key, nil
}

// IssuedTokens returns a token source issuing ServicePrincipal tokens with
// iss, each valid for an hour and renewed when less than ten minutes remain.
func IssuedTokens(iss *auth.Issuer) func(context.Context) (string, error) {
	var (
		mu      sync.Mutex
		tok     string
		expires time.Time
	)
	return func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if tok != "" && time.Until(expires) > 10*time.Minute {
			return tok, nil
		}
		t, err := iss.Issue(ServicePrincipal, time.Hour)
		if err != nil {
			return "", err
		}
		tok, expires = t, time.Now().Add(time.Hour)
		return tok, nil
	}
}

// Service implements tia.travel.v1.TravelService. Its background work —
// payment runs, re-checks of pending claims, retention — is done by types of
// its own (runners.go), which Run starts.
type Service struct {
	travelv1.UnimplementedTravelServiceServer
	store    *store.Store
	units    *uow.Runner
	audit    *audit.Trail
	clock    clock.Clock
	log      *slog.Logger
	opts     Options
	checks   *checker
	registry *registry

	payments  *paymentRunner
	rechecks  *rechecker
	retention *retention
}

func newService(d app.Deps, o Options, clk clock.Clock, log *slog.Logger) *Service {
	st := store.New(d.DB)
	reg := &registry{peer: d.Peer, token: o.ServiceToken, timeout: o.RegistryTimeout, attempts: o.RegistryAttempts, log: log}
	checks := &checker{store: st, registry: reg, rules: o.Rules, clock: clk}
	every := o.RetentionEvery
	if every == 0 {
		every = 24 * time.Hour
	}
	return &Service{
		store: st, units: d.Units, audit: d.Audit, clock: clk, log: log, opts: o, checks: checks, registry: reg,
		payments: &paymentRunner{store: st, units: d.Units, relay: d.Relay, clock: clk, log: log, batch: o.PaymentBatch,
			dir: o.PaymentDir, debtor: o.Debtor, wake: make(chan struct{}, 1)},
		rechecks: &rechecker{store: st, units: d.Units, checks: checks, log: log},
		retention: &retention{store: st, units: d.Units, clock: clk, log: log, window: o.ClaimRetention,
			every: every, holder: uuid.NewString()},
	}
}

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) { travelv1.RegisterTravelServiceServer(r, s) }

// Subscriptions: ended participations from the activity registry.
func (s *Service) Subscriptions() []app.Subscription {
	return []app.Subscription{{
		Producer: "activity",
		Subjects: []string{subjectParticipationEnded},
		Handler:  s.onParticipationEnded,
	}}
}

// Run is the background work until ctx ends: the payment runner (which
// resumes runs interrupted by a restart), the re-checks of pending claims
// and the retention job, each a type of its own.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){
		func(ctx context.Context) { s.payments.Run(ctx, s.opts.RecheckInterval) },
		func(ctx context.Context) { s.rechecks.Run(ctx, s.opts.RecheckInterval) },
		s.retention.Run,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

func (s *Service) today() string { return s.clock.Today() }
