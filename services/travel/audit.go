package travel

import (
	"context"

	auditv1 "github.com/tia-platform/tia/proto/gen/tia/audit/v1"
)

// SearchAuditEntries lists the trail of reads and changes of claims and
// payment files: Migrationsverket by person, an asylum seeker their own.
func (s *Service) SearchAuditEntries(ctx context.Context, req *auditv1.SearchAuditEntriesRequest) (*auditv1.SearchAuditEntriesResponse, error) {
	return s.audit.Search(ctx, req)
}

// VerifyAuditTrail checks the trail's hash chain. Migrationsverket only.
func (s *Service) VerifyAuditTrail(ctx context.Context, req *auditv1.VerifyAuditTrailRequest) (*auditv1.VerifyAuditTrailResponse, error) {
	return s.audit.VerifyTrail(ctx, req)
}
