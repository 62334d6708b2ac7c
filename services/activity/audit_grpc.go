package activity

import (
	"context"

	auditv1 "github.com/tia-platform/tia/proto/gen/tia/audit/v1"
	"github.com/tia-platform/tia/services/platform/badrequest"
)

// trailName is the registry's audit trail.
const trailName = "auditTrails/activity"

// SearchAuditEntries lists the registry's audit trail about one person:
// Migrationsverket by dossier number, an asylum seeker their own.
func (s *Service) SearchAuditEntries(ctx context.Context, req *auditv1.SearchAuditEntriesRequest) (*auditv1.SearchAuditEntriesResponse, error) {
	if req.GetParent() != trailName {
		return nil, badrequest.Field("parent", "this service keeps "+trailName)
	}
	return s.audit.Search(ctx, req)
}

// VerifyAuditTrail checks the registry's audit trail: Migrationsverket.
func (s *Service) VerifyAuditTrail(ctx context.Context, req *auditv1.VerifyAuditTrailRequest) (*auditv1.VerifyAuditTrailResponse, error) {
	if req.GetName() != trailName {
		return nil, badrequest.Field("name", "this service keeps "+trailName)
	}
	return s.audit.VerifyTrail(ctx, req)
}
