package activity

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
)

var frequencyToProto = map[domain.Frequency]activityv1.ReportFrequency{
	domain.Weekly:    activityv1.ReportFrequency_REPORT_FREQUENCY_WEEKLY,
	domain.Monthly:   activityv1.ReportFrequency_REPORT_FREQUENCY_MONTHLY,
	domain.Quarterly: activityv1.ReportFrequency_REPORT_FREQUENCY_QUARTERLY,
}

var frequencyFromProto = reverse(frequencyToProto)

func scheduleLan(name string) string {
	return strings.TrimSuffix(strings.TrimPrefix(name, "lan/"), "/folkbildningReportSchedule")
}

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
	lan := scheduleLan(req.GetName())
	if err := requireLan(ctx, lan); err != nil {
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
	name := req.GetSchedule().GetName()
	if !strings.HasPrefix(name, "lan/") || !strings.HasSuffix(name, "/folkbildningReportSchedule") {
		return nil, badrequest.Field("schedule.name", "must be lan/{lan_code}/folkbildningReportSchedule")
	}
	lan := scheduleLan(name)
	p, err := auth.Require(ctx, auth.RoleCountyBoard, auth.RoleFolkbildningsradet)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleCountyBoard && p.Lan != lan {
		return nil, status.Errorf(codes.PermissionDenied, "a county board sets only its own län's schedule (%s)", p.Lan)
	}
	if !domain.KnownLan(lan) {
		return nil, status.Errorf(codes.NotFound, "lan/%s not found", lan)
	}
	if paths := req.GetUpdateMask().GetPaths(); len(paths) != 1 || paths[0] != "frequency" {
		return nil, badrequest.Field("update_mask", "name the one field that can change: frequency")
	}
	f, ok := frequencyFromProto[req.GetSchedule().GetFrequency()]
	if !ok {
		return nil, badrequest.Field("schedule.frequency", "choose weekly, monthly or quarterly")
	}
	now := s.now().UTC()
	if err := s.store.PutSchedule(ctx, lan, f, now); err != nil {
		return nil, err
	}
	return scheduleToProto(lan, store.Schedule{LanCode: lan, Frequency: f, UpdateTime: now.Format(time.RFC3339Nano)}), nil
}
