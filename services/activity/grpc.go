package activity

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
)

// SubjectActivityRegistered carries ActivityRegistered events.
const SubjectActivityRegistered = "tia.activity.ActivityRegistered"

// CreateActivity registers an activity for the organiser in parent. The
// organiser itself or Folkbildningsrådet may do so.
func (s *Service) CreateActivity(ctx context.Context, req *activityv1.CreateActivityRequest) (*activityv1.Activity, error) {
	org := strings.TrimPrefix(req.GetParent(), "organisers/")
	p, err := auth.Require(ctx, auth.RoleOrganiser, auth.RoleFolkbildningsradet)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleOrganiser && p.Org != org {
		return nil, status.Error(codes.PermissionDenied, "an organiser may only register its own activities")
	}
	a := fromProto(req.GetActivity())
	a.Org = org
	a.ID = req.GetActivityId()
	if a.ID == "" {
		a.ID = uuid.Must(uuid.NewV7()).String()
	}
	if err := a.Normalize(); err != nil {
		return nil, badrequest.Prefix("activity", err)
	}
	a.CreateTime = s.now().UTC()
	a.UpdateTime = a.CreateTime
	out := toProto(a, s.now())
	err = s.store.Create(ctx, a, func(tx *sqlx.Tx) error {
		_, err := events.Publish(ctx, tx, SubjectActivityRegistered, &activityv1.ActivityRegistered{Activity: out})
		return err
	})
	if errors.Is(err, store.ErrExists) {
		return nil, status.Errorf(codes.AlreadyExists, "%s already exists", a.Name())
	}
	if err != nil {
		return nil, err
	}
	s.relay.Notify()
	return out, nil
}

// GetActivity returns one activity.
func (s *Service) GetActivity(ctx context.Context, req *activityv1.GetActivityRequest) (*activityv1.Activity, error) {
	parts := strings.Split(req.GetName(), "/")
	a, err := s.store.Get(ctx, parts[1], parts[3])
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return toProto(a, s.now()), nil
}

// ListActivities lists activities of one organiser or, with organisers/-, of
// all of them.
func (s *Service) ListActivities(ctx context.Context, req *activityv1.ListActivitiesRequest) (*activityv1.ListActivitiesResponse, error) {
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	filter, err := listing.ParseFilter(req, store.FilterFields)
	if err != nil {
		return nil, err
	}
	org := strings.TrimPrefix(req.GetParent(), "organisers/")
	if org == "-" {
		org = ""
	}
	list, err := s.store.List(ctx, org, filter, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &activityv1.ListActivitiesResponse{NextPageToken: next}
	now := s.now()
	for _, a := range list {
		resp.Activities = append(resp.Activities, toProto(a, now))
	}
	return resp, nil
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

func fromProto(p *activityv1.Activity) domain.Activity {
	a := domain.Activity{
		Title: p.GetTitle(), KommunCode: p.GetKommunCode(), Capacity: p.GetCapacity(),
		StartDate: p.GetStartDate(), EndDate: p.GetEndDate(),
	}
	for _, f := range p.GetFocus() {
		for d, pf := range focusToProto {
			if pf == f {
				a.Focus = append(a.Focus, d)
			}
		}
	}
	return a
}

func toProto(a domain.Activity, now time.Time) *activityv1.Activity {
	p := &activityv1.Activity{
		Name: a.Name(), Title: a.Title, KommunCode: a.KommunCode, LanCode: a.LanCode, Capacity: a.Capacity,
		StartDate: a.StartDate, EndDate: a.EndDate, Status: statusToProto[a.StatusOn(now)],
		CreateTime: timestamppb.New(a.CreateTime), UpdateTime: timestamppb.New(a.UpdateTime),
	}
	for _, f := range a.Focus {
		p.Focus = append(p.Focus, focusToProto[f])
	}
	return p
}
