package notification

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/feeds"
	"google.golang.org/protobuf/types/known/emptypb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/domain"
	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/platform/resname"
	"github.com/tia-platform/tia/services/platform/uow"
)

// mayEditContact: the county board edits its län's whole directory; every
// other actor its own entries.
func (s *Service) mayEditContact(p auth.Principal, lan, actor string) bool {
	if p.Role == auth.RoleCountyBoard && p.Lan == lan {
		return true
	}
	return routing.MayRead(p, actor, s.people)
}

// lanOf parses a `lan/{lan}` parent and answers NotFound for a län that
// does not exist.
func lanOf(field, name string) (string, error) {
	v, err := lanPattern.Parse(field, name)
	if err != nil {
		return "", err
	}
	if _, ok := refdata.LanByCode(v[0]); !ok {
		return "", apierr.NotFound(name)
	}
	return v[0], nil
}

// CreateContact adds a contact to a län's directory: the county board any
// in its län, every other actor (not persons) its own. Who may add is
// decided before the contact is checked, so a caller who may not learns
// nothing of the rules.
func (s *Service) CreateContact(ctx context.Context, req *notificationv1.CreateContactRequest) (*notificationv1.Contact, error) {
	lan, err := lanOf("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	p, err := auth.Require(ctx, auth.RoleCountyBoard, auth.RoleMigrationsverket, auth.RoleFolkbildningsradet, auth.RoleOrganiser)
	if err != nil {
		return nil, err
	}
	in := req.GetContact()
	if !s.mayEditContact(p, lan, in.GetActor()) {
		return nil, apierr.Denied("an actor adds its own contacts; the county board adds any in its län")
	}
	var v badrequest.Violations
	if !routing.ValidActor(in.GetActor()) {
		v.Add("contact.actor", "is not an actor: use lansstyrelse-NN, migrationsverket-NN, folkbildningsradet or organiser-<organisation number>")
	}
	if in.GetEmail() == "" && in.GetPhone() == "" {
		v.Add("contact.email", "an email address or a telephone number is required")
	}
	if in.GetEmail() != "" && domain.CheckEmail(in.GetEmail()) != nil {
		v.Add("contact.email", "is not an email address (one bare address, no line breaks)")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c := store.Contact{
		Lan: lan, ID: uuid.Must(uuid.NewV7()).String(), Actor: in.GetActor(), ActorDisplayName: in.GetActorDisplayName(),
		Purpose: in.GetFunction(), PersonName: in.GetPersonName(), Email: in.GetEmail(), Phone: in.GetPhone(),
		Public: boolInt(in.GetPublic()), CreateTime: timeText(s.now()),
	}
	if err := s.units.Do(ctx, func(w *uow.Work) error { return store.CreateContact(ctx, w.Tx, c) }); err != nil {
		return nil, err
	}
	return contactToProto(c), nil
}

// ListContacts lists a län's contact directory: the county board's,
// Migrationsverket's and the organisers' contacts entered here, and each
// organiser's participant contacts from the activity registry (entered
// once, there). The participant-facing ones to anyone, all of them to
// signed-in organisations.
func (s *Service) ListContacts(ctx context.Context, req *notificationv1.ListContactsRequest) (*notificationv1.ListContactsResponse, error) {
	lan, err := lanOf("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	p, signedIn := auth.FromContext(ctx)
	publicOnly := !signedIn || p.Role == auth.RoleAsylumSeeker
	list, next, err := listPage(req, func(page listing.Page) ([]store.Contact, error) {
		return s.store.ListContacts(ctx, lan, publicOnly, page)
	}, contactToProto)
	if err != nil {
		return nil, err
	}
	return &notificationv1.ListContactsResponse{Contacts: list, NextPageToken: next}, nil
}

// DeleteContact removes a contact (its actor, or the county board).
// Contacts from the activity registry are changed there.
func (s *Service) DeleteContact(ctx context.Context, req *notificationv1.DeleteContactRequest) (*emptypb.Empty, error) {
	v, err := contactPattern.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	lan, id := v[0], v[1]
	p, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(id, store.RegistryContactPrefix) {
		org, _, _ := strings.Cut(strings.TrimPrefix(id, store.RegistryContactPrefix), "-")
		if !s.mayEditContact(p, lan, routing.Organiser(org)) {
			return nil, apierr.Denied("an actor removes its own contacts; the county board any in its län")
		}
		return nil, apierr.New(domain.ErrFromRegistry, "%s is the organiser's participant contact in the activity registry; change it there (UpdateOrganiser)", req.GetName())
	}
	c, err := s.store.GetContact(ctx, lan, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound(req.GetName())
	}
	if err != nil {
		return nil, err
	}
	if !s.mayEditContact(p, lan, c.Actor) {
		return nil, apierr.Denied("an actor removes its own contacts; the county board any in its län")
	}
	err = s.units.Do(ctx, func(w *uow.Work) error { return store.DeleteContact(ctx, w.Tx, lan, id) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func contactToProto(c store.Contact) *notificationv1.Contact {
	return &notificationv1.Contact{
		Name: contactPattern.Format(c.Lan, c.ID), Actor: c.Actor, ActorDisplayName: c.ActorDisplayName,
		Function: c.Purpose, PersonName: c.PersonName, Email: c.Email, Phone: c.Phone, Public: c.Public == 1,
	}
}

// organiserPattern is the registry's name of an organiser.
var organiserPattern = resname.New("organisers/{organiser}")

// organiserNumber is the organisation number in an organiser's name.
func organiserNumber(name string) (string, bool) {
	v, ok := organiserPattern.Match(name)
	if !ok || !routing.ValidRecipient(routing.Organiser(v[0])) {
		return "", false
	}
	return v[0], true
}

// participantContactsOfEvent are the rows of an OrganiserContactsChanged
// event, with the version (update time) they stand for.
func participantContactsOfEvent(ev *activityv1.OrganiserContactsChanged) ([]store.RegistryContact, string) {
	var out []store.RegistryContact
	for _, l := range ev.GetLans() {
		if _, ok := refdata.LanByCode(l.GetLanCode()); !ok {
			continue
		}
		for i, c := range l.GetContacts() {
			out = append(out, registryContact(l.GetLanCode(), i, ev.GetOrganiserDisplayName(), c))
		}
	}
	return out, versionOf(ev.GetUpdateTime().AsTime(), ev.GetUpdateTime() != nil)
}

// participantContactsOfOrganiser are the participant contacts of a newly
// registered organiser: a contact without län codes covers every län.
func participantContactsOfOrganiser(o *activityv1.Organiser) ([]store.RegistryContact, string) {
	var out []store.RegistryContact
	positions := map[string]int{}
	for _, c := range o.GetContacts() {
		if c.GetRole() != activityv1.ContactRole_CONTACT_ROLE_PARTICIPANTS {
			continue
		}
		lans := c.GetLanCodes()
		if len(lans) == 0 {
			for _, l := range refdata.Lans() {
				lans = append(lans, l.Code)
			}
		}
		for _, lan := range lans {
			if _, ok := refdata.LanByCode(lan); !ok {
				continue
			}
			out = append(out, registryContact(lan, positions[lan], o.GetDisplayName(), c))
			positions[lan]++
		}
	}
	t := o.GetUpdateTime()
	if t == nil {
		t = o.GetCreateTime()
	}
	return out, versionOf(t.AsTime(), t != nil)
}

func registryContact(lan string, position int, organiser string, c *activityv1.Contact) store.RegistryContact {
	return store.RegistryContact{Lan: lan, Position: position, ActorDisplayName: organiser, PersonName: c.GetDisplayName(), Email: c.GetEmail(), Phone: c.GetPhone()}
}

// versionOf is the stored form of an event's update time; an event without
// one is the oldest version.
func versionOf(t time.Time, set bool) string {
	if !set {
		return ""
	}
	return timeText(t)
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
	v, err := kommunPattern.Parse("kommun", req.GetKommun())
	if err != nil {
		return nil, err
	}
	code := v[0]
	k, ok := refdata.KommunByCode(code)
	if !ok {
		return nil, apierr.NotFound(req.GetKommun())
	}
	now := s.now().In(clock.Stockholm)
	list, err := s.store.FeedActivities(ctx, code, clock.Day(now), 100)
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
		published := timeFromText(a.PublishTime)
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
