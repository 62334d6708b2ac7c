package travel

import (
	"context"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// reportClaims are the claims a report covers: those of a county board's
// own län, or of the one asked for (all when empty).
func (s *Service) reportClaims(ctx context.Context, lan string) ([]domain.Claim, error) {
	p, err := auth.Require(ctx, auth.RoleMigrationsverket, auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleCountyBoard {
		if lan != "" && lan != p.Lan {
			return nil, apierr.Denied("a county board sees reports of its own län only")
		}
		lan = p.Lan
	}
	if _, ok := refdata.LanByCode(lan); lan != "" && !ok {
		return nil, badrequest.Field("lan_code", "not a län code (01–25)")
	}
	return s.store.AllClaims(ctx, store.Scope{Lan: lan})
}

// GetLeadTimeReport reports how promptly claims are paid.
func (s *Service) GetLeadTimeReport(ctx context.Context, req *travelv1.GetLeadTimeReportRequest) (*travelv1.LeadTimeReport, error) {
	claims, err := s.reportClaims(ctx, req.GetLanCode())
	if err != nil {
		return nil, err
	}
	rows, risk := domain.LeadTimes(claims, s.opts.Reports, s.clock.Now())
	out := &travelv1.LeadTimeReport{TargetDays: int32(s.opts.Reports.TargetDays)}
	for _, r := range rows {
		out.Rows = append(out.Rows, &travelv1.LeadTimeRow{
			LanCode: r.LanCode, Month: r.Month, PaidClaims: r.Paid, P50Days: r.P50, P90Days: r.P90, WithinTarget: r.WithinTarget,
		})
	}
	listed := make([]domain.Claim, len(risk))
	for i, r := range risk {
		out.AtRisk = append(out.AtRisk, &travelv1.AtRiskClaim{
			Claim: r.Claim.Name(), LanCode: r.Claim.LanCode, State: claimStates[r.Claim.State],
			SubmitTime: ts(r.Claim.SubmitTime), DueDate: r.DueDate, DaysLeft: int32(r.DaysLeft),
		})
		listed[i] = r.Claim
	}
	// The claims named in the report are read about persons.
	if err := s.units.AuditRead(ctx, audit.OpList, "claims:leadTimeReport", dossiersOf(listed)...); err != nil {
		return nil, err
	}
	return out, nil
}

// GetUsageReport reports flagged claims and a summary per län.
func (s *Service) GetUsageReport(ctx context.Context, req *travelv1.GetUsageReportRequest) (*travelv1.UsageReport, error) {
	claims, err := s.reportClaims(ctx, req.GetLanCode())
	if err != nil {
		return nil, err
	}
	ends, err := s.store.ParticipationEnds(ctx)
	if err != nil {
		return nil, err
	}
	rows, flagged := domain.UsageReport(claims, ends, s.opts.Reports)
	out := &travelv1.UsageReport{}
	for _, r := range rows {
		out.Rows = append(out.Rows, &travelv1.UsageRow{
			LanCode: r.LanCode, Claims: r.Claims, Approved: r.Approved, ApprovedOre: r.ApprovedOre, Flagged: r.Flagged,
			AfterDropOut: r.AfterDropOut, Frequent: r.Frequent, CostOutlier: r.Out,
		})
	}
	listed := make([]domain.Claim, len(flagged))
	for i, f := range flagged {
		out.Flagged = append(out.Flagged, &travelv1.FlaggedClaim{
			Claim: f.Claim.Name(), LanCode: f.Claim.LanCode, Flags: f.Flags, State: claimStates[f.Claim.State],
		})
		listed[i] = f.Claim
	}
	if err := s.units.AuditRead(ctx, audit.OpList, "claims:usageReport", dossiersOf(listed)...); err != nil {
		return nil, err
	}
	return out, nil
}
