package activity

import (
	"context"
	"errors"
	"slices"
	"sort"

	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/platform/resname"
	"github.com/tia-platform/tia/services/platform/uow"
)

// CreateOrganiser registers an organiser: the organiser itself,
// Folkbildningsrådet or a county board (which may then change it as an
// organiser of its län).
func (s *Service) CreateOrganiser(ctx context.Context, req *activityv1.CreateOrganiserRequest) (*activityv1.Organiser, error) {
	p, err := auth.Require(ctx, auth.RoleOrganiser, auth.RoleFolkbildningsradet, auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleOrganiser && p.Org != domain.NormalizeOrgNumber(req.GetOrganiser().GetOrgNumber()) {
		return nil, apierr.Denied("an organiser may only register itself")
	}
	if err := validate("organiser", req.GetOrganiser()); err != nil {
		return nil, err
	}
	o := organiserFromProto(req.GetOrganiser())
	if err := o.Normalize(); err != nil {
		return nil, badrequest.Prefix("organiser", err)
	}
	return uow.Once(ctx, s.units, uow.Request{Method: activityv1.ActivityService_CreateOrganiser_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*activityv1.Organiser, error) {
			o.CreateTime = s.clock.Now().UTC()
			o.UpdateTime = o.CreateTime
			err := s.store.CreateOrganiser(ctx, w.Tx, o, p.Lan)
			if errors.Is(err, store.ErrExists) {
				return nil, apierr.New(apierr.ErrAlreadyExists, "%s already exists", o.Name())
			}
			if err != nil {
				return nil, err
			}
			out := organiserToProto(o)
			if err := publish(w, &activityv1.OrganiserRegistered{Organiser: out}); err != nil {
				return nil, err
			}
			return out, publish(w, contactsChanged(o))
		})
}

// contactsChanged is the event that brings an organiser's participant
// contacts to each län's contact directory.
func contactsChanged(o domain.Organiser) *activityv1.OrganiserContactsChanged {
	ev := &activityv1.OrganiserContactsChanged{Organiser: o.Name(), OrganiserDisplayName: o.DisplayName,
		OrganiserKind: kindToProto[o.Kind], UpdateTime: timestamppb.New(o.UpdateTime)}
	per := map[string]*activityv1.LanParticipantContacts{}
	for _, l := range refdata.Lans() {
		for _, c := range o.Contacts {
			if c.Role != domain.ContactParticipants || !c.CoversLan(l.Code) {
				continue
			}
			lc := per[l.Code]
			if lc == nil {
				lc = &activityv1.LanParticipantContacts{LanCode: l.Code}
				per[l.Code] = lc
				ev.Lans = append(ev.Lans, lc)
			}
			lc.Contacts = append(lc.Contacts, contactToProto(c))
		}
	}
	sort.Slice(ev.Lans, func(i, j int) bool { return ev.Lans[i].GetLanCode() < ev.Lans[j].GetLanCode() })
	return ev
}

// GetOrganiser returns an organiser; any signed-in caller.
func (s *Service) GetOrganiser(ctx context.Context, req *activityv1.GetOrganiserRequest) (*activityv1.Organiser, error) {
	_, vars, err := admit(ctx, organiserName, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	o, err := s.store.GetOrganiser(ctx, vars[0])
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound(req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return organiserToProto(o), nil
}

// organiserFields are the fields UpdateOrganiser may change.
var organiserFields = []string{"display_name", "kind", "contacts"}

// UpdateOrganiser changes display_name, kind or contacts: the organiser
// itself, Folkbildningsrådet, or the county board of a län the organiser
// works in (see store.OrganiserLans).
func (s *Service) UpdateOrganiser(ctx context.Context, req *activityv1.UpdateOrganiserRequest) (*activityv1.Organiser, error) {
	name := req.GetOrganiser().GetName()
	p, vars, err := admit(ctx, organiserName, "organiser.name", name, auth.RoleOrganiser, auth.RoleFolkbildningsradet, auth.RoleCountyBoard)
	if err != nil {
		return nil, err
	}
	org := vars[0]
	if len(org) != 10 {
		return nil, badrequest.Field("organiser.name", "must be organisers/{org_number}")
	}
	if p.Role == auth.RoleOrganiser && p.Org != org {
		return nil, apierr.Denied("an organiser may only change itself")
	}
	var out *activityv1.Organiser
	err = s.units.Do(ctx, func(w *uow.Work) error {
		o, err := store.GetOrganiser(ctx, w.Tx, org)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.NotFound(name)
		}
		if err != nil {
			return err
		}
		if p.Role == auth.RoleCountyBoard {
			lans, err := store.OrganiserLans(ctx, w.Tx, org)
			if err != nil {
				return err
			}
			if !slices.Contains(lans, p.Lan) {
				return apierr.Denied("a county board changes only organisers that work in its own län (%s)", p.Lan)
			}
		}
		// Authorised: now the request's shape.
		paths, err := updatePaths(req.GetUpdateMask().GetPaths(), organiserFields)
		if err != nil {
			return err
		}
		merged := organiserToProto(o)
		merge(merged, req.GetOrganiser(), paths)
		if err := validate("organiser", merged); err != nil {
			return err
		}
		n := organiserFromProto(merged)
		if err := n.Normalize(); err != nil {
			return badrequest.Prefix("organiser", err)
		}
		n.CreateTime, n.UpdateTime = o.CreateTime, s.clock.Now().UTC()
		if err := s.store.UpdateOrganiser(ctx, w.Tx, n); err != nil {
			return err
		}
		out = organiserToProto(n)
		return publish(w, contactsChanged(n))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

var organiserList = listSpec{fields: store.OrganiserFilterFields, columns: store.OrganiserOrder}

// ListOrganisers lists organisers; any signed-in caller.
func (s *Service) ListOrganisers(ctx context.Context, req *activityv1.ListOrganisersRequest) (*activityv1.ListOrganisersResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	q, err := organiserList.parse(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListOrganisers(ctx, q.filter, q.order, q.page)
	if err != nil {
		return nil, err
	}
	organisers, next := listing.Items(q.page, list, organiserToProto)
	return &activityv1.ListOrganisersResponse{Organisers: organisers, NextPageToken: next}, nil
}

// ListLanContacts lists who to call at every organiser for a län.
func (s *Service) ListLanContacts(ctx context.Context, req *activityv1.ListLanContactsRequest) (*activityv1.ListLanContactsResponse, error) {
	lan, err := s.lanOf(ctx, lanName, "parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	list, err := s.store.LanContacts(ctx, lan)
	if err != nil {
		return nil, err
	}
	resp := &activityv1.ListLanContactsResponse{}
	for _, c := range list {
		resp.Contacts = append(resp.Contacts, &activityv1.LanContact{
			Organiser: c.Organiser.Name(), OrganiserDisplayName: c.Organiser.DisplayName,
			OrganiserKind: kindToProto[c.Organiser.Kind], Contact: contactToProto(c.Contact),
		})
	}
	return resp, nil
}

// lanOf admits the county board of the län named in field (by pattern),
// Migrationsverket and Folkbildningsrådet, and checks that the län exists.
// It returns the län code.
func (s *Service) lanOf(ctx context.Context, pattern resname.Pattern, field, name string) (string, error) {
	p, vars, err := admit(ctx, pattern, field, name, auth.RoleCountyBoard, auth.RoleMigrationsverket, auth.RoleFolkbildningsradet)
	if err != nil {
		return "", err
	}
	lan := vars[0]
	if p.Role == auth.RoleCountyBoard && p.Lan != lan {
		return "", apierr.Denied("a county board sees only its own län (%s)", p.Lan)
	}
	if !domain.KnownLan(lan) {
		return "", apierr.NotFound("lan/" + lan)
	}
	return lan, nil
}
