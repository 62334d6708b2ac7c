package activity

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
)

// Subjects of the events the registry publishes.
const (
	SubjectActivityRegistered          = "tia.activity.ActivityRegistered"
	SubjectActivityUpdated             = "tia.activity.ActivityUpdated"
	SubjectActivityStarted             = "tia.activity.ActivityStarted"
	SubjectOrganiserRegistered         = "tia.activity.OrganiserRegistered"
	SubjectAgreementSigned             = "tia.activity.AgreementSigned"
	SubjectAgreementEnded              = "tia.activity.AgreementEnded"
	SubjectParticipationEnded          = "tia.activity.ParticipationEnded"
	SubjectFolkbildningReportPublished = "tia.activity.FolkbildningReportPublished"
)

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
	if err := s.checkActivity(ctx, &a); err != nil {
		return nil, err
	}
	a.CreateTime = s.now().UTC()
	a.UpdateTime = a.CreateTime
	out := toProto(a, s.local())
	err = s.store.Create(ctx, a, events.Publishing(ctx, SubjectActivityRegistered, &activityv1.ActivityRegistered{Activity: out}))
	if errors.Is(err, store.ErrExists) {
		return nil, status.Errorf(codes.AlreadyExists, "%s already exists", a.Name())
	}
	if err != nil {
		return nil, err
	}
	s.supply.clear()
	s.relay.Notify()
	return out, nil
}

// checkActivity applies the activity rules and the funding rules, which
// need the organiser (it must be registered) and the agreement named.
func (s *Service) checkActivity(ctx context.Context, a *domain.Activity) error {
	if err := a.Normalize(); err != nil {
		return badrequest.Prefix("activity", err)
	}
	o, err := s.store.GetOrganiser(ctx, a.Org)
	if errors.Is(err, store.ErrNotFound) {
		return badrequest.Field("parent", "organisers/"+a.Org+" is not registered; register the organiser first")
	}
	if err != nil {
		return err
	}
	var ag *domain.Agreement
	if a.Funding == domain.FundingAgreement {
		if lan, id, ok := parseAgreementName(a.Agreement); ok {
			got, err := s.store.GetAgreement(ctx, lan, id)
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

func parseAgreementName(name string) (lan, id string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "lan" || parts[2] != "agreements" {
		return "", "", false
	}
	return parts[1], parts[3], true
}

// activityFields are the fields UpdateActivity may change.
var activityFields = []string{"title", "kommun_code", "focus", "capacity", "start_date", "end_date", "funding_basis",
	"programme", "agreement", "address", "schedule", "languages"}

// UpdateActivity changes the fields of an activity named in update_mask.
func (s *Service) UpdateActivity(ctx context.Context, req *activityv1.UpdateActivityRequest) (*activityv1.Activity, error) {
	name := req.GetActivity().GetName()
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "organisers" || parts[2] != "activities" {
		return nil, badrequest.Field("activity.name", "must be organisers/{org_number}/activities/{activity}")
	}
	p, err := auth.Require(ctx, auth.RoleOrganiser, auth.RoleFolkbildningsradet)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleOrganiser && p.Org != parts[1] {
		return nil, status.Error(codes.PermissionDenied, "an organiser may only change its own activities")
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, badrequest.Field("update_mask", "name the fields to change")
	}
	for _, f := range paths {
		if !slices.Contains(activityFields, f) {
			return nil, badrequest.Field("update_mask", "cannot change "+quote(f)+"; changeable: "+strings.Join(activityFields, ", "))
		}
	}
	a, err := s.store.Get(ctx, parts[1], parts[3])
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", name)
	}
	if err != nil {
		return nil, err
	}
	in := fromProto(req.GetActivity())
	for _, f := range paths {
		switch f {
		case "title":
			a.Title = in.Title
		case "kommun_code":
			a.KommunCode = in.KommunCode
		case "focus":
			a.Focus = in.Focus
		case "capacity":
			a.Capacity = in.Capacity
		case "start_date":
			a.StartDate = in.StartDate
		case "end_date":
			a.EndDate = in.EndDate
		case "funding_basis":
			a.Funding = in.Funding
		case "programme":
			a.Programme = in.Programme
		case "agreement":
			a.Agreement = in.Agreement
		case "address":
			a.Address = in.Address
		case "schedule":
			a.Schedule = in.Schedule
		case "languages":
			a.Languages = in.Languages
		}
	}
	if err := s.checkActivity(ctx, &a); err != nil {
		return nil, err
	}
	a.UpdateTime = s.now().UTC()
	out := toProto(a, s.local())
	err = s.store.Update(ctx, a, events.Publishing(ctx, SubjectActivityUpdated, &activityv1.ActivityUpdated{Activity: out, ChangedFields: paths}))
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", name)
	}
	if err != nil {
		return nil, err
	}
	s.supply.clear()
	s.relay.Notify()
	return out, nil
}

func quote(s string) string { return "\"" + s + "\"" }

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
	return toProto(a, s.local()), nil
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
	now := s.local()
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
