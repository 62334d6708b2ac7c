package activity

import (
	"context"
	"errors"

	"github.com/google/uuid"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/uow"
)

// CreateActivity registers an activity for the organiser in parent. The
// organiser itself or Folkbildningsrådet may do so.
func (s *Service) CreateActivity(ctx context.Context, req *activityv1.CreateActivityRequest) (*activityv1.Activity, error) {
	p, vars, err := admit(ctx, organiserName, "parent", req.GetParent(), auth.RoleOrganiser, auth.RoleFolkbildningsradet)
	if err != nil {
		return nil, err
	}
	org := vars[0]
	if p.Role == auth.RoleOrganiser && p.Org != org {
		return nil, apierr.Denied("an organiser may only register its own activities")
	}
	if err := validate("activity", req.GetActivity()); err != nil {
		return nil, err
	}
	a := fromProto(req.GetActivity())
	a.Org = org
	a.ID = req.GetActivityId()
	if a.ID == "" {
		a.ID = uuid.Must(uuid.NewV7()).String()
	}
	out, err := uow.Once(ctx, s.units, uow.Request{Method: activityv1.ActivityService_CreateActivity_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*activityv1.Activity, error) {
			if err := checkActivity(ctx, w.Tx, &a); err != nil {
				return nil, err
			}
			a.CreateTime = s.clock.Now().UTC()
			a.UpdateTime = a.CreateTime
			err := s.store.Create(ctx, w.Tx, a)
			if errors.Is(err, store.ErrExists) {
				return nil, apierr.New(apierr.ErrAlreadyExists, "%s already exists", a.Name())
			}
			if err != nil {
				return nil, err
			}
			out := toProto(a, s.local())
			return out, publish(w, &activityv1.ActivityRegistered{Activity: out})
		})
	if err != nil {
		return nil, err
	}
	s.supply.clear()
	return out, nil
}

// checkActivity applies the activity rules and the funding rules, which
// need the organiser (it must be registered) and the agreement named; q is
// the unit of work's transaction.
func checkActivity(ctx context.Context, q store.Q, a *domain.Activity) error {
	if err := a.Normalize(); err != nil {
		return badrequest.Prefix("activity", err)
	}
	o, err := store.GetOrganiser(ctx, q, a.Org)
	if errors.Is(err, store.ErrNotFound) {
		return badrequest.Field("parent", "organisers/"+a.Org+" is not registered; register the organiser first")
	}
	if err != nil {
		return err
	}
	var ag *domain.Agreement
	if a.Funding == domain.FundingAgreement {
		if vars, ok := agreementName.Match(a.Agreement); ok {
			got, err := store.GetAgreement(ctx, q, vars[0], vars[1])
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil {
				ag = &got
			}
		}
	}
	return badrequest.Prefix("activity", a.CheckFunding(o, ag))
}

// activityFields are the fields UpdateActivity may change.
var activityFields = []string{"title", "kommun_code", "focus", "capacity", "start_date", "end_date", "funding_basis",
	"programme", "agreement", "address", "schedule", "languages"}

// UpdateActivity changes the fields of an activity named in update_mask
// ("*": all of them). The activity as it would be after the change must
// pass every rule a new one must: the declared ones and the domain's.
func (s *Service) UpdateActivity(ctx context.Context, req *activityv1.UpdateActivityRequest) (*activityv1.Activity, error) {
	name := req.GetActivity().GetName()
	p, vars, err := admit(ctx, activityName, "activity.name", name, auth.RoleOrganiser, auth.RoleFolkbildningsradet)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleOrganiser && p.Org != vars[0] {
		return nil, apierr.Denied("an organiser may only change its own activities")
	}
	paths, err := updatePaths(req.GetUpdateMask().GetPaths(), activityFields)
	if err != nil {
		return nil, err
	}
	var out *activityv1.Activity
	err = s.units.Do(ctx, func(w *uow.Work) error {
		old, err := store.GetActivity(ctx, w.Tx, vars[0], vars[1])
		if errors.Is(err, store.ErrNotFound) {
			return apierr.NotFound(name)
		}
		if err != nil {
			return err
		}
		merged := toProto(old, s.local())
		merge(merged, req.GetActivity(), paths)
		if err := validate("activity", merged); err != nil {
			return err
		}
		a := fromProto(merged)
		a.Org, a.ID, a.CreateTime = old.Org, old.ID, old.CreateTime
		if err := checkActivity(ctx, w.Tx, &a); err != nil {
			return err
		}
		a.UpdateTime = s.clock.Now().UTC()
		if err := s.store.Update(ctx, w.Tx, a); err != nil {
			return err
		}
		out = toProto(a, s.local())
		return publish(w, &activityv1.ActivityUpdated{Activity: out, ChangedFields: paths})
	})
	if err != nil {
		return nil, err
	}
	s.supply.clear()
	return out, nil
}

// GetActivity returns one activity.
func (s *Service) GetActivity(ctx context.Context, req *activityv1.GetActivityRequest) (*activityv1.Activity, error) {
	vars, err := activityName.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	a, err := s.store.Get(ctx, vars[0], vars[1])
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound(req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return toProto(a, s.local()), nil
}

var activityList = listSpec{fields: store.FilterFields, columns: store.ActivityOrder, codes: true}

// ListActivities lists activities of one organiser or, with organisers/-, of
// all of them.
func (s *Service) ListActivities(ctx context.Context, req *activityv1.ListActivitiesRequest) (*activityv1.ListActivitiesResponse, error) {
	vars, err := organiserName.Parse("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	q, err := activityList.parse(req)
	if err != nil {
		return nil, err
	}
	org := vars[0]
	if org == "-" {
		org = ""
	}
	list, err := s.store.List(ctx, org, q.filter, q.order, q.page)
	if err != nil {
		return nil, err
	}
	now := s.local()
	activities, next := listing.Items(q.page, list, func(a domain.Activity) *activityv1.Activity { return toProto(a, now) })
	return &activityv1.ListActivitiesResponse{Activities: activities, NextPageToken: next}, nil
}

var focusToProto = map[domain.Focus]activityv1.Focus{
	domain.FocusSwedish:      activityv1.Focus_FOCUS_SWEDISH,
	domain.FocusSociety:      activityv1.Focus_FOCUS_SOCIETY,
	domain.FocusLabourMarket: activityv1.Focus_FOCUS_LABOUR_MARKET,
	domain.FocusHealth:       activityv1.Focus_FOCUS_HEALTH,
}

var statusToProto = map[domain.Status]activityv1.ActivityStatus{
	domain.StatusPlanned: activityv1.ActivityStatus_ACTIVITY_STATUS_PLANNED,
	domain.StatusOngoing: activityv1.ActivityStatus_ACTIVITY_STATUS_ONGOING,
	domain.StatusEnded:   activityv1.ActivityStatus_ACTIVITY_STATUS_ENDED,
}
