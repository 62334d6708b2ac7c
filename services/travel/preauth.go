package travel

import (
	"context"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
)

// Preauthorize decides, for a request that breaks its method's rules,
// whether the caller may call the method on that resource at all, so a
// party a consultation does not address gets 403 rather than the rules
// (authorization before validation). The handler checks the same again.
func (s *Service) Preauthorize(ctx context.Context, _ string, req any) error {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil
	}
	if r, ok := req.(*travelv1.CreateConsultationResponseRequest); ok {
		c, err := s.consultation(ctx, r.GetParent(), "parent")
		if err != nil {
			return nil // the violations answer a name that is no consultation
		}
		return s.mayRespond(ctx, p, c)
	}
	return nil
}
