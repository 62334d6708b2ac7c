// Package activity is the activity registry that the county boards keep with
// Folkbildningsrådet: organisers, agreements, activities, participation
// certificates, Folkbildningsrådet's report, the coverage picture and the
// public catalogue. This file wires the service into a host and consumes
// other services' events; the *_grpc.go files translate the API; the rules
// live in internal/domain and the tables in internal/store.
package activity

import (
	"context"
	"fmt"
	"log/slog"
	"time"
	_ "time/tzdata" // dates are reckoned in Europe/Stockholm

	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// Component describes the service to a host.
var Component = app.Component{
	Name:       "activity",
	Migrations: store.Migrations,
	New: func(d app.Deps) (app.Service, error) {
		log := d.Logger
		if log == nil {
			log = slog.Default()
		}
		return &Service{store: store.New(d.DB), relay: d.Relay, now: time.Now, log: log, reportEvery: time.Hour}, nil
	},
}

// Service implements tia.activity.v1.ActivityService.
type Service struct {
	activityv1.UnimplementedActivityServiceServer
	store *store.Store
	relay *events.Relay
	now   func() time.Time
	log   *slog.Logger
	// reportEvery is how often the scheduler looks for reports due.
	reportEvery time.Duration
	// supply caches the kommuner with ongoing activities.
	supply supplyCache
}

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) { activityv1.RegisterActivityServiceServer(r, s) }

// Event subjects the registry consumes.
const (
	SubjectSnapshotPublished   = "tia.statistics.SnapshotPublished"
	SubjectProjectionPublished = "tia.statistics.ProjectionPublished"
	SubjectRouteDecided        = "tia.travel.RouteDecided"
	SubjectRouteRevoked        = "tia.travel.RouteRevoked"
)

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
	case string((&statisticsv1.SnapshotPublished{}).ProtoReflect().Descriptor().FullName()):
		var m statisticsv1.SnapshotPublished
		if err := ev.Decode(&m); err != nil {
			return err
		}
		return store.PutSnapshot(ctx, tx, m.GetReferenceDate(), m.GetPublishTime().AsTime().UTC().Format(time.RFC3339Nano), totals(m.GetKommunTotals()))
	case string((&statisticsv1.ProjectionPublished{}).ProtoReflect().Descriptor().FullName()):
		var m statisticsv1.ProjectionPublished
		if err := ev.Decode(&m); err != nil {
			return err
		}
		return store.PutProjection(ctx, tx, m.GetProjectionDate(), m.GetSnapshot(), m.GetPublishTime().AsTime().UTC().Format(time.RFC3339Nano), totals(m.GetKommunTotals()))
	case string((&travelv1.RouteDecided{}).ProtoReflect().Descriptor().FullName()):
		var m travelv1.RouteDecided
		if err := ev.Decode(&m); err != nil {
			return err
		}
		return store.PutRoute(ctx, tx, route(m.GetRoute(), ""))
	case string((&travelv1.RouteRevoked{}).ProtoReflect().Descriptor().FullName()):
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
		if d, err := time.Parse(domain.DateLayout, revokedFrom); err == nil {
			if last := d.AddDate(0, 0, -1).Format(domain.DateLayout); last < out.ValidTo {
				out.ValidTo = last
			}
		}
	}
	return out
}

// Run is the scheduler of Folkbildningsrådet's report: for every län, once
// a period (monthly unless the county board chose weekly or quarterly), the
// activities of study associations and folk high schools that started in
// the previous period go to the county board as a
// FolkbildningReportPublished event. Each report is sent once, however many
// replicas run (report_runs is claimed in the same transaction).
func (s *Service) Run(ctx context.Context) error {
	for {
		if err := s.SendDueReports(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("scheduled Folkbildningsrådet reports failed; retrying later", "error", err)
		}
		if err := s.AnnounceStarts(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("announcing started activities failed; retrying later", "error", err)
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
	due, err := s.store.DueStarts(ctx, s.today().Format(domain.DateLayout))
	if err != nil {
		return err
	}
	announced := false
	for _, a := range due {
		ok, err := s.store.ClaimStart(ctx, a.Org, a.ID, events.Publishing(ctx, SubjectActivityStarted, &activityv1.ActivityStarted{Activity: toProto(a, now)}))
		if err != nil {
			return err
		}
		announced = announced || ok
	}
	if announced {
		s.relay.Notify()
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
	since, err := s.store.ReportsSince(ctx, today.Format(domain.DateLayout))
	if err != nil {
		return err
	}
	sent := false
	for _, l := range refdata.Lans() {
		from, to := domain.ReportPeriod(schedules[l.Code].Frequency, today)
		if to < since {
			continue
		}
		report, err := s.folkbildningReport(ctx, l.Code, from, to)
		if err != nil {
			return err
		}
		ok, err := s.store.ClaimReport(ctx, l.Code, from+"/"+to, s.now().UTC().Format(time.RFC3339Nano), func(tx store.Tx) error {
			_, err := events.Publish(ctx, tx, SubjectFolkbildningReportPublished,
				&activityv1.FolkbildningReportPublished{Report: report, LanCode: l.Code})
			return err
		})
		if err != nil {
			return fmt.Errorf("report for län %s: %w", l.Code, err)
		}
		sent = sent || ok
	}
	if sent {
		s.relay.Notify()
	}
	return nil
}

// today is the current day in Sweden, as a UTC midnight.
func (s *Service) today() time.Time {
	y, m, d := s.now().In(stockholm).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// stockholm is the time zone dates are reckoned in.
var stockholm = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// local is the current time in Sweden, for statuses that follow dates.
func (s *Service) local() time.Time { return s.now().In(stockholm) }
