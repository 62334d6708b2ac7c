package activity

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/uow"
)

var frequencyToProto = map[domain.Frequency]activityv1.ReportFrequency{
	domain.Weekly:    activityv1.ReportFrequency_REPORT_FREQUENCY_WEEKLY,
	domain.Monthly:   activityv1.ReportFrequency_REPORT_FREQUENCY_MONTHLY,
	domain.Quarterly: activityv1.ReportFrequency_REPORT_FREQUENCY_QUARTERLY,
}

var frequencyFromProto = reverse(frequencyToProto)

func scheduleToProto(lan string, sc store.Schedule) *activityv1.ReportSchedule {
	f := sc.Frequency
	if f == "" {
		f = domain.Monthly
	}
	out := &activityv1.ReportSchedule{Name: "lan/" + lan + "/folkbildningReportSchedule", Frequency: frequencyToProto[f]}
	if sc.UpdateTime != "" {
		out.UpdateTime = timestamppb.New(parseTime(sc.UpdateTime))
	}
	return out
}

// GetReportSchedule returns how often a län's county board gets the report.
func (s *Service) GetReportSchedule(ctx context.Context, req *activityv1.GetReportScheduleRequest) (*activityv1.ReportSchedule, error) {
	lan, err := s.lanOf(ctx, scheduleName, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	all, err := s.store.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	return scheduleToProto(lan, all[lan]), nil
}

// UpdateReportSchedule changes the frequency: the county board of the län
// or Folkbildningsrådet.
func (s *Service) UpdateReportSchedule(ctx context.Context, req *activityv1.UpdateReportScheduleRequest) (*activityv1.ReportSchedule, error) {
	p, vars, err := admit(ctx, scheduleName, "schedule.name", req.GetSchedule().GetName(), auth.RoleCountyBoard, auth.RoleFolkbildningsradet)
	if err != nil {
		return nil, err
	}
	lan := vars[0]
	if p.Role == auth.RoleCountyBoard && p.Lan != lan {
		return nil, apierr.Denied("a county board sets only its own län's schedule (%s)", p.Lan)
	}
	if !domain.KnownLan(lan) {
		return nil, apierr.NotFound("lan/" + lan)
	}
	if _, err := updatePaths(req.GetUpdateMask().GetPaths(), []string{"frequency"}); err != nil {
		return nil, err
	}
	f, ok := frequencyFromProto[req.GetSchedule().GetFrequency()]
	if !ok {
		return nil, badrequest.Field("schedule.frequency", "choose weekly, monthly or quarterly")
	}
	now := s.clock.Now().UTC()
	if err := s.units.Do(ctx, func(w *uow.Work) error { return store.PutSchedule(ctx, w.Tx, lan, f, now) }); err != nil {
		return nil, err
	}
	return scheduleToProto(lan, store.Schedule{LanCode: lan, Frequency: f, UpdateTime: now.Format(time.RFC3339Nano)}), nil
}
