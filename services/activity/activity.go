// Package activity is the activity registry that the county boards keep with
// Folkbildningsrådet: organisers, agreements, activities, participation
// certificates, Folkbildningsrådet's report, the coverage picture and the
// public catalogue. This file wires the service into a host and consumes
// other services' events; the *_grpc.go files translate the API; the rules
// live in internal/domain and the tables in internal/store.
//
// Every change is one unit of work (package uow): the rows, the events
// others must learn and the audit entries of the personal data it touched
// commit together. Creates and state-changing custom methods honour the
// client's AIP-155 request_id. Errors leave through the one table Errors.
package activity

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/platform/uow"
)

// Errors is the registry's one error table: the shared kinds of package
// apierr cover not found, already exists and permission denied; a renewal
// that lost a race is ABORTED.
var Errors = []apierr.Rule{
	{Err: store.ErrConflict, Code: codes.Aborted, Reason: "CONCURRENT_CHANGE"},
}

// Component describes the service to a host.
var Component = app.Component{
	Name:       "activity",
	Migrations: store.Migrations,
	Errors:     Errors,
	Config:     func() config.Settings { return &Config{} },
	New: func(d app.Deps) (app.Service, error) {
		if d.Units == nil || d.Audit == nil {
			return nil, errors.New("activity: the registry needs units of work and an audit trail (app.Deps.Units, Audit)")
		}
		cfg, _ := d.Config.(*Config)
		if cfg == nil {
			cfg = &Config{}
			if err := config.FromEnv(cfg); err != nil {
				return nil, err
			}
		}
		log := d.Logger
		if log == nil {
			log = slog.Default()
		}
		c := d.Clock
		if c == nil {
			c = clock.System
		}
		return &Service{store: store.New(d.DB), units: d.Units, audit: d.Audit, clock: c, log: log,
			reportEvery: time.Hour, retention: cfg.CertificateRetentionDays}, nil
	},
}

// Config is the registry's own configuration: flags of the binary, each also
// read from the TIA_* variable of the same name.
type Config struct {
	// CertificateRetentionDays is how long after its activity's last day a
	// certificate keeps the participant's dossier number
	// (TIA_ACTIVITY_CERTIFICATE_RETENTION_DAYS); then the retention job
	// removes it, keeping what the figures need.
	CertificateRetentionDays int
}

// Register declares the settings' flags on fs.
func (c *Config) Register(fs *flag.FlagSet) {
	config.Int(fs, &c.CertificateRetentionDays, "activity-certificate-retention-days", 730,
		"days after an activity's last day that its certificates keep the participants' dossier numbers")
}

// Validate names the variable of a wrong setting.
func (c *Config) Validate() error {
	return config.Positive("activity-certificate-retention-days", c.CertificateRetentionDays)
}

// Service implements tia.activity.v1.ActivityService.
type Service struct {
	activityv1.UnimplementedActivityServiceServer
	// store reads; writes go through units.
	store *store.Store
	units *uow.Runner
	audit *audit.Trail
	clock clock.Clock
	log   *slog.Logger
	// reportEvery is how often the scheduler looks for reports due.
	reportEvery time.Duration
	// retention is CertificateRetentionDays.
	retention int
	// supply caches the kommuner with ongoing activities.
	supply supplyCache
}

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) { activityv1.RegisterActivityServiceServer(r, s) }

// Event subjects, derived from the messages' names (events.SubjectOf).
var (
	SubjectActivityRegistered          = events.SubjectOf(&activityv1.ActivityRegistered{})
	SubjectActivityUpdated             = events.SubjectOf(&activityv1.ActivityUpdated{})
	SubjectActivityStarted             = events.SubjectOf(&activityv1.ActivityStarted{})
	SubjectOrganiserRegistered         = events.SubjectOf(&activityv1.OrganiserRegistered{})
	SubjectOrganiserContactsChanged    = events.SubjectOf(&activityv1.OrganiserContactsChanged{})
	SubjectAgreementSigned             = events.SubjectOf(&activityv1.AgreementSigned{})
	SubjectAgreementEnded              = events.SubjectOf(&activityv1.AgreementEnded{})
	SubjectParticipationEnded          = events.SubjectOf(&activityv1.ParticipationEnded{})
	SubjectFolkbildningReportPublished = events.SubjectOf(&activityv1.FolkbildningReportPublished{})

	SubjectSnapshotPublished   = events.SubjectOf(&statisticsv1.SnapshotPublished{})
	SubjectProjectionPublished = events.SubjectOf(&statisticsv1.ProjectionPublished{})
	SubjectRouteDecided        = events.SubjectOf(&travelv1.RouteDecided{})
	SubjectRouteRevoked        = events.SubjectOf(&travelv1.RouteRevoked{})
)

// publish puts msg in the outbox of the unit of work under its subject.
func publish(w *uow.Work, msg proto.Message) error {
	return w.Publish(events.SubjectOf(msg), msg)
}

// Subscriptions: the target group from statistics and approved routes from
// travel, kept as the registry's own copies for the coverage picture and
// the catalogue.
func (s *Service) Subscriptions() []app.Subscription {
	return []app.Subscription{
		{Producer: "statistics", Subjects: []string{SubjectSnapshotPublished, SubjectProjectionPublished}, Handler: s.HandleEvent},
		{Producer: "travel", Subjects: []string{SubjectRouteDecided, SubjectRouteRevoked}, Handler: s.HandleEvent},
	}
}

// HandleEvent applies one consumed event inside the consumer's transaction.
// Every write replaces what the same event wrote before, so redelivery is
// harmless.
func (s *Service) HandleEvent(ctx context.Context, tx *sqlx.Tx, ev events.Event) error {
	switch ev.Type {
	case events.TypeOf(&statisticsv1.SnapshotPublished{}):
		var m statisticsv1.SnapshotPublished
		if err := ev.Decode(&m); err != nil {
			return err
		}
		return store.PutSnapshot(ctx, tx, m.GetReferenceDate(), m.GetPublishTime().AsTime().UTC().Format(time.RFC3339Nano), totals(m.GetKommunTotals()))
	case events.TypeOf(&statisticsv1.ProjectionPublished{}):
		var m statisticsv1.ProjectionPublished
		if err := ev.Decode(&m); err != nil {
			return err
		}
		return store.PutProjection(ctx, tx, m.GetProjectionDate(), m.GetSnapshot(), m.GetPublishTime().AsTime().UTC().Format(time.RFC3339Nano), totals(m.GetKommunTotals()))
	case events.TypeOf(&travelv1.RouteDecided{}):
		var m travelv1.RouteDecided
		if err := ev.Decode(&m); err != nil {
			return err
		}
		return store.PutRoute(ctx, tx, route(m.GetRoute(), ""))
	case events.TypeOf(&travelv1.RouteRevoked{}):
		var m travelv1.RouteRevoked
		if err := ev.Decode(&m); err != nil {
			return err
		}
		return store.PutRoute(ctx, tx, route(m.GetRoute(), m.GetRevokedFrom()))
	}
	return nil // other events of these streams do not concern the registry
}

func totals(in []*statisticsv1.KommunTotal) []store.KommunTotal {
	out := make([]store.KommunTotal, 0, len(in))
	for _, t := range in {
		lan := t.GetLanCode()
		if k, ok := refdata.KommunByCode(t.GetKommunCode()); ok {
			lan = k.LanCode
		}
		out = append(out, store.KommunTotal{KommunCode: t.GetKommunCode(), LanCode: lan, Adults: t.GetAdults()})
	}
	return out
}

// route keeps a route; revokedFrom (when set) ends it the day before.
func route(r *travelv1.Route, revokedFrom string) store.Route {
	out := store.Route{Name: r.GetName(), FromKommun: r.GetFromKommunCode(), ToKommun: r.GetToKommunCode(),
		ValidFrom: r.GetValidFrom(), ValidTo: r.GetValidTo()}
	if k, ok := refdata.KommunByCode(out.FromKommun); ok {
		out.FromLan = k.LanCode
	}
	if revokedFrom != "" {
		if d, err := clock.ParseDate(revokedFrom); err == nil {
			if last := d.AddDate(0, 0, -1).Format(clock.DateLayout); last < out.ValidTo {
				out.ValidTo = last
			}
		}
	}
	return out
}

// Run is the registry's scheduler. Folkbildningsrådet's report: for every
// län, once a period (monthly unless the county board chose weekly or
// quarterly), the activities of study associations and folk high schools
// that started in the previous period go to the county board as a
// FolkbildningReportPublished event. Starts: ActivityStarted on an
// activity's first day. Retention: dossier numbers of certificates past the
// configured window are removed. Each report, start and daily retention run
// happens once, however many replicas run (each is claimed in the
// transaction that does it).
func (s *Service) Run(ctx context.Context) error {
	for {
		if err := s.SendDueReports(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("scheduled Folkbildningsrådet reports failed; retrying later", "error", err)
		}
		if err := s.AnnounceStarts(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("announcing started activities failed; retrying later", "error", err)
		}
		if _, err := s.ApplyRetention(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("certificate retention failed; retrying later", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.reportEvery):
		}
	}
}

// AnnounceStarts publishes ActivityStarted for every activity whose first
// day has come since it was registered. Each start is announced once, however
// many replicas run.
func (s *Service) AnnounceStarts(ctx context.Context) error {
	now := s.local()
	due, err := s.store.DueStarts(ctx, s.todayString())
	if err != nil {
		return err
	}
	for _, a := range due {
		err := s.units.Do(ctx, func(w *uow.Work) error {
			ok, err := store.ClaimStart(ctx, w.Tx, a.Org, a.ID)
			if err != nil || !ok {
				return err
			}
			return publish(w, &activityv1.ActivityStarted{Activity: toProto(a, now)})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SendDueReports sends every report that is due and not yet sent: the
// previous complete period's, for each län, if the registry was running by
// the period's last day.
func (s *Service) SendDueReports(ctx context.Context) error {
	schedules, err := s.store.Schedules(ctx)
	if err != nil {
		return err
	}
	today := s.today()
	// Only periods the registry was running for are reported: a new
	// installation does not send 21 empty reports for the month before it.
	since, err := s.store.ReportsSince(ctx, today.Format(clock.DateLayout))
	if err != nil {
		return err
	}
	for _, l := range refdata.Lans() {
		from, to := domain.ReportPeriod(schedules[l.Code].Frequency, today)
		if to < since {
			continue
		}
		report, err := s.folkbildningReport(ctx, l.Code, from, to)
		if err != nil {
			return err
		}
		err = s.units.Do(ctx, func(w *uow.Work) error {
			ok, err := store.ClaimReport(ctx, w.Tx, l.Code, from+"/"+to, s.clock.Now().UTC().Format(time.RFC3339Nano))
			if err != nil || !ok {
				return err
			}
			return publish(w, &activityv1.FolkbildningReportPublished{Report: report, LanCode: l.Code})
		})
		if err != nil {
			return fmt.Errorf("report for län %s: %w", l.Code, err)
		}
	}
	return nil
}

// today is the current day in Sweden, as a UTC midnight (the domain's date
// arithmetic works on those).
func (s *Service) today() time.Time {
	t, _ := time.Parse(clock.DateLayout, s.clock.Today())
	return t
}

// todayString is the current day in Sweden, YYYY-MM-DD.
func (s *Service) todayString() string { return s.clock.Today() }

// local is the current time in Sweden, for statuses that follow dates.
func (s *Service) local() time.Time { return s.clock.Now().In(clock.Stockholm) }
