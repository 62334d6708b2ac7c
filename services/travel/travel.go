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
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// Event subjects the service publishes.
const (
	SubjectRouteDecided        = "tia.travel.RouteDecided"
	SubjectRouteRevoked        = "tia.travel.RouteRevoked"
	SubjectConsultationOpened  = "tia.travel.ConsultationOpened"
	SubjectConsultationDecided = "tia.travel.ConsultationDecided"
	SubjectClaimDecided        = "tia.travel.ClaimDecided"
	SubjectClaimPaid           = "tia.travel.ClaimPaid"
)

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
	// Now replaces the clock in tests.
	Now func() time.Time
}

// Component describes the service to a host, configured from the
// environment.
var Component = NewComponent(Options{})

// NewComponent returns the service's component with o.
func NewComponent(o Options) app.Component {
	return app.Component{
		Name:       "travel",
		Migrations: store.Migrations,
		New: func(d app.Deps) (app.Service, error) {
			o, err := o.withDefaults()
			if err != nil {
				return nil, err
			}
			log := d.Logger
			if log == nil {
				log = slog.Default()
			}
			s := &Service{
				store: store.New(d.DB), relay: d.Relay, log: log, now: o.Now, opts: o,
				bg: context.Background(),
			}
			s.registry = &registry{peer: d.Peer, token: o.ServiceToken, timeout: o.RegistryTimeout, attempts: o.RegistryAttempts, log: log}
			return s, nil
		},
	}
}

func (o Options) withDefaults() (Options, error) {
	var err error
	envInt := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, e := strconv.Atoi(v)
		if e != nil && err == nil {
			err = fmt.Errorf("%s: %w", name, e)
		}
		return n
	}
	if o.Rules == (domain.Rules{}) {
		o.Rules = domain.Rules{
			MaxCostOre:       int64(envInt("TIA_TRAVEL_MAX_COST_ORE", int(domain.DefaultRules.MaxCostOre))),
			SubmitWithinDays: envInt("TIA_TRAVEL_SUBMIT_WITHIN_DAYS", domain.DefaultRules.SubmitWithinDays),
		}
	}
	if o.Reports == (domain.ReportRules{}) {
		o.Reports = domain.DefaultReportRules
		o.Reports.TargetDays = envInt("TIA_TRAVEL_TARGET_DAYS", o.Reports.TargetDays)
		o.Reports.WarnDays = envInt("TIA_TRAVEL_WARN_DAYS", o.Reports.WarnDays)
	}
	if o.RecheckInterval == 0 {
		o.RecheckInterval = 30 * time.Second
		if v := os.Getenv("TIA_TRAVEL_RECHECK_INTERVAL"); v != "" {
			d, e := time.ParseDuration(v)
			if e != nil {
				return o, fmt.Errorf("TIA_TRAVEL_RECHECK_INTERVAL: %w", e)
			}
			o.RecheckInterval = d
		}
	}
	if o.PaymentBatch == 0 {
		o.PaymentBatch = envInt("TIA_TRAVEL_PAYMENT_BATCH", 1000)
	}
	if o.PaymentDir == "" {
		o.PaymentDir = os.Getenv("TIA_TRAVEL_PAYMENT_DIR")
	}
	if o.Debtor == (domain.Debtor{}) {
		o.Debtor = domain.DefaultDebtor
		if v := os.Getenv("TIA_TRAVEL_DEBTOR_IBAN"); v != "" {
			o.Debtor.IBAN = v
		}
		if v := os.Getenv("TIA_TRAVEL_DEBTOR_BIC"); v != "" {
			o.Debtor.BIC = v
		}
		if v := os.Getenv("TIA_TRAVEL_DEBTOR_NAME"); v != "" {
			o.Debtor.Name = v
		}
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
	if o.ServiceToken == nil {
		o.ServiceToken, err = tokenFromEnv()
	}
	return o, err
}

// tokenFromEnv reads TIA_SERVICE_TOKEN or TIA_SERVICE_KEY.
func tokenFromEnv() (func(context.Context) (string, error), error) {
	if tok := os.Getenv("TIA_SERVICE_TOKEN"); tok != "" {
		return func(context.Context) (string, error) { return tok, nil }, nil
	}
	path := os.Getenv("TIA_SERVICE_KEY")
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("TIA_SERVICE_KEY: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("TIA_SERVICE_KEY: no PEM block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("TIA_SERVICE_KEY: %w", err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("TIA_SERVICE_KEY: want an Ed25519 key, got %T", parsed)
	}
	return IssuedTokens(auth.NewIssuer(key, "")), nil
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

// Service implements tia.travel.v1.TravelService.
type Service struct {
	travelv1.UnimplementedTravelServiceServer
	store    *store.Store
	relay    *events.Relay
	log      *slog.Logger
	now      func() time.Time
	opts     Options
	registry *registry

	// bg is the host's context for background work once Run started.
	mu   sync.Mutex
	bg   context.Context
	runs sync.WaitGroup
	// executing are the runs started in this process (under mu); paying is
	// held by the one executing now.
	executing map[string]bool
	closing   bool
	paying    sync.Mutex
}

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) { travelv1.RegisterTravelServiceServer(r, s) }

// Subscriptions: ended participations from the activity registry.
func (s *Service) Subscriptions() []app.Subscription {
	return []app.Subscription{{
		Producer: "activity",
		Subjects: []string{"tia.activity.ParticipationEnded"},
		Handler:  s.onParticipationEnded,
	}}
}

// Run is the background work: it resumes payment runs interrupted by a
// restart and re-checks pending claims until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.bg = ctx
	s.mu.Unlock()
	defer func() {
		// No run starts after this; those running stop with ctx.
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.runs.Wait()
	}()
	s.resumeRuns(ctx)
	t := time.NewTicker(s.opts.RecheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.RecheckPending(ctx)
			s.resumeRuns(ctx)
		}
	}
}

func (s *Service) background() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bg
}

func (s *Service) notify() {
	if s.relay != nil {
		s.relay.Notify()
	}
}
