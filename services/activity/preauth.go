package activity

import (
	"context"
	"slices"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
)

// Preauthorize decides, for a request that breaks its method's rules,
// whether the caller may call the method on that resource at all, so a
// county board outside the organiser's län gets 403 rather than the rules
// (authorization before validation). The handlers check the same again.
func (s *Service) Preauthorize(ctx context.Context, _ string, req any) error {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil
	}
	switch r := req.(type) {
	case *activityv1.UpdateOrganiserRequest:
		vars, ok := organiserName.Match(r.GetOrganiser().GetName())
		if !ok {
			return nil
		}
		switch p.Role {
		case auth.RoleOrganiser:
			if p.Org != vars[0] {
				return apierr.Denied("an organiser may only change itself")
			}
		case auth.RoleCountyBoard:
			lans, err := store.OrganiserLans(ctx, s.store.DB(), vars[0])
			if err == nil && !slices.Contains(lans, p.Lan) {
				return apierr.Denied("a county board changes only organisers that work in its own län (%s)", p.Lan)
			}
		}
	}
	return nil
}
