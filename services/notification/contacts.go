package notification

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/feeds"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/domain"
	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// mayEditContact: the county board edits its län's whole directory; every
// other actor its own entries.
func mayEditContact(p auth.Principal, lan, actor string) bool {
	if p.Role == auth.RoleCountyBoard && p.Lan == lan {
		return true
	}
	return routing.MayRead(p, actor)
}

// CreateContact adds a contact to a län's directory.
func (s *Service) CreateContact(ctx context.Context, req *notificationv1.CreateContactRequest) (*notificationv1.Contact, error) {
	lan := segment(req.GetParent(), 1)
	if err := knownLan(lan); err != nil {
		return nil, err
	}
	p, err := auth.Require(ctx, auth.RoleCountyBoard, auth.RoleMigrationsverket, auth.RoleFolkbildningsradet, auth.RoleOrganiser)
	if err != nil {
		return nil, err
	}
	in := req.GetContact()
	var v badrequest.Violations
	if !routing.ValidActor(in.GetActor()) {
		v.Add("contact.actor", "is not an actor: use lansstyrelse-NN, migrationsverket-NN, folkbildningsradet or organiser-<organisation number>")
	}
	if in.GetEmail() == "" && in.GetPhone() == "" {
		v.Add("contact.email", "an email address or a telephone number is required")
	}
	if in.GetEmail() != "" && domain.CheckEmail(in.GetEmail()) != nil {
		v.Add("contact.email", "is not an email address")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !mayEditContact(p, lan, in.GetActor()) {
		return nil, status.Errorf(codes.PermissionDenied, "an actor adds its own contacts; the county board adds any in its län")
	}
	c := store.Contact{
		Lan: lan, ID: uuid.Must(uuid.NewV7()).String(), Actor: in.GetActor(), ActorDisplayName: in.GetActorDisplayName(),
		Purpose: in.GetFunction(), PersonName: in.GetPersonName(), Email: in.GetEmail(), Phone: in.GetPhone(),
		Public: boolInt(in.GetPublic()), CreateTime: s.now().UTC().Format(time.RFC3339Nano),
	}
	if err := s.store.CreateContact(ctx, c); err != nil {
		return nil, err
	}
	return contactToProto(c), nil
}

// ListContacts lists a län's contacts: the participant-facing ones to
// anyone, all of them to signed-in actors.
func (s *Service) ListContacts(ctx context.Context, req *notificationv1.ListContactsRequest) (*notificationv1.ListContactsResponse, error) {
	lan := segment(req.GetParent(), 1)
	if err := knownLan(lan); err != nil {
		return nil, err
	}
	p, signedIn := auth.FromContext(ctx)
	publicOnly := !signedIn || p.Role == auth.RoleAsylumSeeker
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListContacts(ctx, lan, publicOnly, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &notificationv1.ListContactsResponse{NextPageToken: next}
	for _, c := range list {
		resp.Contacts = append(resp.Contacts, contactToProto(c))
	}
	return resp, nil
}

// DeleteContact removes a contact.
func (s *Service) DeleteContact(ctx context.Context, req *notificationv1.DeleteContactRequest) (*emptypb.Empty, error) {
	lan, id := segment(req.GetName(), 1), segment(req.GetName(), 3)
	p, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetContact(ctx, lan, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	if !mayEditContact(p, lan, c.Actor) {
		return nil, status.Errorf(codes.PermissionDenied, "an actor removes its own contacts; the county board any in its län")
	}
	if err := s.store.DeleteContact(ctx, lan, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func contactToProto(c store.Contact) *notificationv1.Contact {
	return &notificationv1.Contact{
		Name: "lan/" + c.Lan + "/contacts/" + c.ID, Actor: c.Actor, ActorDisplayName: c.ActorDisplayName,
		Function: c.Purpose, PersonName: c.PersonName, Email: c.Email, Phone: c.Phone, Public: c.Public == 1,
	}
}

// focusSv names the focus areas in Swedish for the public feed.
var focusSv = map[string]string{
	"FOCUS_SWEDISH": "svenska språket", "FOCUS_SOCIETY": "samhällskunskap",
	"FOCUS_LABOUR_MARKET": "arbetsmarknad", "FOCUS_HEALTH": "hälsa",
}

// GetActivityFeed renders the activities newly open to asylum seekers in a
// kommun as Atom (RFC 4287): those this service learnt of that have not
// ended, newest first.
func (s *Service) GetActivityFeed(ctx context.Context, req *notificationv1.GetActivityFeedRequest) (*notificationv1.Feed, error) {
	code := segment(req.GetKommun(), 1)
	k, ok := refdata.KommunByCode(code)
	if !ok {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetKommun())
	}
	now := s.now().In(stockholm)
	list, err := s.store.FeedActivities(ctx, code, now.Format("2006-01-02"), 100)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(req.GetBaseUrl(), "/")
	feed := &feeds.Feed{
		Title:       "Aktiviteter för asylsökande i " + k.Name,
		Subtitle:    "Nya aktiviteter inom tidiga insatser för asylsökande (TIA) i " + k.Name,
		Id:          "tag:tia,2026:kommuner/" + code + "/activities",
		Link:        &feeds.Link{Href: base + "/v1/kommuner/" + code + "/activities.atom", Rel: "self"},
		Author:      &feeds.Author{Name: "TIA"},
		Updated:     now,
		Description: "Aktiviteter i " + k.Name,
	}
	for i, a := range list {
		published, _ := time.Parse(time.RFC3339Nano, a.PublishTime)
		if i == 0 {
			feed.Updated = published
		}
		var focus []string
		for _, f := range strings.Split(a.Focus, ",") {
			if sv, ok := focusSv[f]; ok {
				focus = append(focus, sv)
			}
		}
		summary := fmt.Sprintf("%s, %s–%s, %d platser.", k.Name, a.StartDate, a.EndDate, a.Capacity)
		if len(focus) > 0 {
			summary += " Inriktning: " + strings.Join(focus, ", ") + "."
		}
		feed.Items = append(feed.Items, &feeds.Item{
			Title: a.Title, Id: "tag:tia,2026:" + a.Name,
			Link:        &feeds.Link{Href: base + "/v1/" + a.Name, Rel: "alternate"},
			Description: summary, Created: published, Updated: published,
		})
	}
	atom, err := feed.ToAtom()
	if err != nil {
		return nil, err
	}
	return &notificationv1.Feed{ContentType: "application/atom+xml; charset=utf-8", Data: []byte(atom)}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
