package notification

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"
	"go.einride.tech/aip/pagination"
	"google.golang.org/protobuf/types/known/emptypb"

	auditv1 "github.com/tia-platform/tia/proto/gen/tia/audit/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/dispatch"
	"github.com/tia-platform/tia/services/notification/internal/domain"
	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/platform/resname"
	"github.com/tia-platform/tia/services/platform/uow"
)

// inboxRef is a recipient's inbox as the caller may reach it.
type inboxRef struct {
	// recipient is the inbox named (`me` replaced by the caller's own).
	recipient string
	// all are the inboxes a list spans: the one, or for Migrationsverket's
	// `recipients/me` its national inbox and every regional one.
	all []string
	// dossier is the caller's dossier number when the inbox is an asylum
	// seeker's own (its reads and changes are audited), else "".
	dossier string
}

// open checks that the caller may read recipient's inbox (its own, or for
// Migrationsverket one of its regional ones). `recipients/me` is the
// caller's own inbox: an asylum seeker cannot know the pseudonym of theirs.
// Refusals name no recipient: the message is logged, and a recipient id may
// be a person's pseudonym.
func (s *Service) open(ctx context.Context, recipient string) (inboxRef, error) {
	p, err := auth.Require(ctx)
	if err != nil {
		return inboxRef{}, err
	}
	in := inboxRef{recipient: recipient}
	if recipient == "me" {
		own, ok := routing.RecipientOf(p, s.people)
		if !ok {
			return inboxRef{}, apierr.Denied("the caller has no inbox")
		}
		in.recipient = own
		if own == routing.Migrationsverket {
			in.all = nationalView()
		}
	}
	if !routing.MayRead(p, in.recipient, s.people) {
		return inboxRef{}, apierr.Denied("the inbox is not the caller's")
	}
	if in.all == nil {
		in.all = []string{in.recipient}
	}
	if _, person := routing.PersonOf(in.recipient); person {
		in.dossier = p.Dossier
	}
	return in, nil
}

// nationalView is Migrationsverket's national inbox with its 21 regional
// ones: a case officer reads what reaches any of them in one list.
func nationalView() []string {
	out := []string{routing.Migrationsverket}
	for _, l := range refdata.Lans() {
		out = append(out, routing.MigrationsverketRegion(l.Code))
	}
	return out
}

// auditRead records a read of a claimant's inbox (nothing for others).
func (s *Service) auditRead(ctx context.Context, in inboxRef, op, resource string) error {
	if in.dossier == "" {
		return nil
	}
	return s.units.AuditRead(ctx, op, resource, in.dossier)
}

// auditChange records a change of a claimant's inbox within w.
func auditChange(w *uow.Work, in inboxRef, op, resource string) error {
	if in.dossier == "" {
		return nil
	}
	return w.Audit(op, resource, in.dossier)
}

// notFound is NOT_FOUND for a resource of an inbox, named unless it is a
// person's (the message is logged).
func notFound(in inboxRef, what, name string) error {
	if in.dossier != "" {
		return apierr.New(apierr.ErrNotFound, "the %s was not found", what)
	}
	return apierr.NotFound(name)
}

// parent parses a `recipients/{recipient}` parent.
func parent(name string) (string, error) {
	v, err := recipientPattern.Parse("parent", name)
	if err != nil {
		return "", err
	}
	return v[0], nil
}

// openName parses the name in field with pattern, whose first segment is a
// recipient, and opens that inbox: the inbox and the name's segments.
func (s *Service) openName(ctx context.Context, pattern resname.Pattern, field, name string) (inboxRef, []string, error) {
	v, err := pattern.Parse(field, name)
	if err != nil {
		return inboxRef{}, nil, err
	}
	in, err := s.open(ctx, v[0])
	return in, v, err
}

// listPage reads the page req asks for with fetch and converts its rows:
// the page's items and the next page's token.
func listPage[T, P any](req pagination.Request, fetch func(listing.Page) ([]T, error), convert func(T) P) ([]P, string, error) {
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, "", err
	}
	rows, err := fetch(page)
	if err != nil {
		return nil, "", err
	}
	out, next := listing.Items(page, rows, convert)
	return out, next, nil
}

// listInbox lists a collection of an inbox: the caller may read the inbox,
// the page is parsed, fetch reads its rows, and a read of a claimant's
// inbox is audited.
func listInbox[T, P any](ctx context.Context, s *Service, parentName string, req pagination.Request, collection string,
	fetch func(ctx context.Context, recipient string, page listing.Page) ([]T, error), convert func(T) P) (out []P, next string, err error) {
	in, _, err := s.openName(ctx, recipientPattern, "parent", parentName)
	if err != nil {
		return nil, "", err
	}
	out, next, err = listPage(req, func(page listing.Page) ([]T, error) { return fetch(ctx, in.recipient, page) }, convert)
	if err != nil {
		return nil, "", err
	}
	if err := s.auditRead(ctx, in, audit.OpList, recipientPattern.Format(in.recipient)+"/"+collection); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// ListMessages lists an inbox, newest first; Migrationsverket's
// `recipients/me` lists its national and regional inboxes together.
func (s *Service) ListMessages(ctx context.Context, req *notificationv1.ListMessagesRequest) (*notificationv1.ListMessagesResponse, error) {
	in, _, err := s.openName(ctx, recipientPattern, "parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	filter, err := listing.ParseFilter(req, store.MessageFilter)
	if err != nil {
		return nil, err
	}
	list, err := s.store.List(ctx, in.all, filter, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	deliveries, err := s.store.DeliveriesOfMessages(ctx, list)
	if err != nil {
		return nil, err
	}
	resp := &notificationv1.ListMessagesResponse{NextPageToken: next}
	for _, m := range list {
		resp.Messages = append(resp.Messages, toProto(m, deliveries[m.ID]))
	}
	if err := s.auditRead(ctx, in, audit.OpList, recipientPattern.Format(in.recipient)+"/messages"); err != nil {
		return nil, err
	}
	return resp, nil
}

// GetMessage returns one message of the caller's inbox, with its delivery
// status.
func (s *Service) GetMessage(ctx context.Context, req *notificationv1.GetMessageRequest) (*notificationv1.Message, error) {
	return s.message(ctx, req.GetName(), false)
}

// MarkMessageRead marks a message read (once; later calls keep the first
// read time).
func (s *Service) MarkMessageRead(ctx context.Context, req *notificationv1.MarkMessageReadRequest) (*notificationv1.Message, error) {
	return s.message(ctx, req.GetName(), true)
}

func (s *Service) message(ctx context.Context, name string, markRead bool) (*notificationv1.Message, error) {
	in, v, err := s.openName(ctx, messagePattern, "name", name)
	if err != nil {
		return nil, err
	}
	id := v[1]
	name = messagePattern.Format(in.recipient, id)
	var m store.Message
	if markRead {
		err = s.units.Do(ctx, func(w *uow.Work) error {
			if m, err = store.MarkRead(ctx, w.Tx, in.recipient, id, s.now()); err != nil {
				return err
			}
			return auditChange(w, in, audit.OpUpdate, name)
		})
	} else {
		m, err = s.store.Get(ctx, in.recipient, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(in, "message", name)
	}
	if err != nil {
		return nil, err
	}
	deliveries, err := s.store.DeliveriesOf(ctx, in.recipient, []string{id})
	if err != nil {
		return nil, err
	}
	if !markRead {
		if err := s.auditRead(ctx, in, audit.OpRead, name); err != nil {
			return nil, err
		}
	}
	return toProto(m, deliveries[id]), nil
}

// CountUnreadMessages counts the unread messages of an inbox (of the
// national view for Migrationsverket's `recipients/me`).
func (s *Service) CountUnreadMessages(ctx context.Context, req *notificationv1.CountUnreadMessagesRequest) (*notificationv1.CountUnreadMessagesResponse, error) {
	in, _, err := s.openName(ctx, recipientPattern, "parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	filter, err := listing.ParseFilter(req, store.MessageFilter)
	if err != nil {
		return nil, err
	}
	n, err := s.store.CountUnread(ctx, in.all, filter)
	if err != nil {
		return nil, err
	}
	return &notificationv1.CountUnreadMessagesResponse{UnreadCount: n}, nil
}

// ListDeadLetters lists the caller's dead-lettered deliveries.
func (s *Service) ListDeadLetters(ctx context.Context, req *notificationv1.ListDeadLettersRequest) (*notificationv1.ListDeadLettersResponse, error) {
	list, next, err := listInbox(ctx, s, req.GetParent(), req, "deadLetters", s.store.DeadLetters, deliveryToProto)
	if err != nil {
		return nil, err
	}
	return &notificationv1.ListDeadLettersResponse{Deliveries: list, NextPageToken: next}, nil
}

// ReplayDelivery queues a dead-lettered delivery again.
func (s *Service) ReplayDelivery(ctx context.Context, req *notificationv1.ReplayDeliveryRequest) (*notificationv1.Delivery, error) {
	in, v, err := s.openName(ctx, deliveryPattern, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	name := deliveryPattern.Format(in.recipient, v[1], v[2])
	var d store.Delivery
	err = s.units.Do(ctx, func(w *uow.Work) error {
		if d, err = store.Replay(ctx, w.Tx, in.recipient, v[1], v[2], s.now()); err != nil {
			return err
		}
		return auditChange(w, in, audit.OpUpdate, name)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound(in, "delivery", name)
	case errors.Is(err, store.ErrNotDeadLettered):
		return nil, apierr.New(domain.ErrNotDeadLettered, "the delivery is %s, not dead-lettered", d.State)
	case err != nil:
		return nil, err
	}
	s.dispatch.Wake()
	return deliveryToProto(d), nil
}

// GetSubscription returns the caller's choice for a topic (the default,
// inbox only in Swedish, when it made none).
func (s *Service) GetSubscription(ctx context.Context, req *notificationv1.GetSubscriptionRequest) (*notificationv1.Subscription, error) {
	in, v, err := s.openName(ctx, subscriptionPattern, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	topic := v[1]
	if !routing.KnownTopic(topic) {
		return nil, apierr.New(apierr.ErrNotFound, "subscription to %q not found: unknown topic; known topics: %s", topic, strings.Join(routing.Topics(), ", "))
	}
	sub, _, err := store.GetSubscription(ctx, s.store.DB(), in.recipient, topic)
	if err != nil {
		return nil, err
	}
	if err := s.auditRead(ctx, in, audit.OpRead, subscriptionPattern.Format(in.recipient, topic)); err != nil {
		return nil, err
	}
	return subscriptionToProto(sub), nil
}

// ListSubscriptions lists the caller's subscriptions.
func (s *Service) ListSubscriptions(ctx context.Context, req *notificationv1.ListSubscriptionsRequest) (*notificationv1.ListSubscriptionsResponse, error) {
	list, next, err := listInbox(ctx, s, req.GetParent(), req, "subscriptions", s.store.ListSubscriptions, subscriptionToProto)
	if err != nil {
		return nil, err
	}
	return &notificationv1.ListSubscriptionsResponse{Subscriptions: list, NextPageToken: next}, nil
}

// subscriptionFields are the fields UpdateSubscription changes; `*` means
// all of them (AIP-134).
var subscriptionFields = []string{"channels", "language", "email_address"}

// UpdateSubscription sets the caller's channels and language for a topic.
func (s *Service) UpdateSubscription(ctx context.Context, req *notificationv1.UpdateSubscriptionRequest) (*notificationv1.Subscription, error) {
	in := req.GetSubscription()
	box, v, err := s.openName(ctx, subscriptionPattern, "subscription.name", in.GetName())
	if err != nil {
		return nil, err
	}
	topic := v[1]
	cur, _, err := store.GetSubscription(ctx, s.store.DB(), box.recipient, topic)
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 || slices.Contains(paths, "*") {
		paths = subscriptionFields
	}
	for _, p := range paths {
		switch p {
		case "channels":
			var chans []string
			for _, c := range in.GetChannels() {
				switch c {
				case notificationv1.Channel_CHANNEL_EMAIL:
					chans = append(chans, store.ChannelEmail)
				case notificationv1.Channel_CHANNEL_WEBHOOK:
					chans = append(chans, store.ChannelWebhook)
				}
			}
			cur.Channels = strings.Join(chans, ",")
		case "language":
			cur.Language = languageCode(in.GetLanguage())
		case "email_address":
			cur.EmailAddress = in.GetEmailAddress()
		default:
			return nil, badrequest.Field("update_mask", "unknown field "+p+"; use channels, language, email_address or *")
		}
	}
	err = domain.CheckSubscription(domain.Subscription{
		Topic: topic, Email: cur.HasChannel(store.ChannelEmail), Webhook: cur.HasChannel(store.ChannelWebhook), EmailAddress: cur.EmailAddress,
	}, routing.KnownTopic, routing.Topics())
	if err != nil {
		return nil, badrequest.Prefix("subscription", err)
	}
	err = s.units.Do(ctx, func(w *uow.Work) error {
		if err := store.PutSubscription(ctx, w.Tx, cur); err != nil {
			return err
		}
		return auditChange(w, box, audit.OpUpdate, subscriptionPattern.Format(box.recipient, topic))
	})
	if err != nil {
		return nil, err
	}
	s.subs.forget(box.recipient, topic)
	return subscriptionToProto(cur), nil
}

// CreateWebhook registers a webhook for the caller and returns its secret.
// Only agencies and organisers have webhooks (proto/access): a webhook is
// an organisation's system, and a person's messages stay in the inbox.
func (s *Service) CreateWebhook(ctx context.Context, req *notificationv1.CreateWebhookRequest) (*notificationv1.Webhook, error) {
	recipient, err := parent(req.GetParent())
	if err != nil {
		return nil, err
	}
	if _, err := auth.Require(ctx, webhookRoles...); err != nil {
		return nil, err
	}
	in, err := s.open(ctx, recipient)
	if err != nil {
		return nil, err
	}
	if err := domain.CheckWebhookURL(req.GetWebhook().GetUrl(), s.webhookPolicy()); err != nil {
		return nil, badrequest.Prefix("webhook", err)
	}
	w := store.Webhook{
		Recipient: in.recipient, ID: uuid.Must(uuid.NewV7()).String(), URL: req.GetWebhook().GetUrl(),
		Description: req.GetWebhook().GetDescription(), Secret: dispatch.NewSecret(), CreateTime: timeText(s.now()),
	}
	if err := s.units.Do(ctx, func(wk *uow.Work) error { return store.CreateWebhook(ctx, wk.Tx, w) }); err != nil {
		return nil, err
	}
	return webhookToProto(w, true), nil
}

// webhookPolicy is what webhook URLs may name besides public https ones.
func (s *Service) webhookPolicy() domain.WebhookPolicy {
	return domain.WebhookPolicy{PlainHTTP: s.cfg.Development, Allowed: s.guard.Allowed}
}

// ListWebhooks lists the caller's webhooks without their secrets.
func (s *Service) ListWebhooks(ctx context.Context, req *notificationv1.ListWebhooksRequest) (*notificationv1.ListWebhooksResponse, error) {
	list, next, err := listInbox(ctx, s, req.GetParent(), req, "webhooks", s.store.ListWebhooks,
		func(w store.Webhook) *notificationv1.Webhook { return webhookToProto(w, false) })
	if err != nil {
		return nil, err
	}
	return &notificationv1.ListWebhooksResponse{Webhooks: list, NextPageToken: next}, nil
}

// DeleteWebhook removes one of the caller's webhooks; its pending
// deliveries are dead-lettered when next tried.
func (s *Service) DeleteWebhook(ctx context.Context, req *notificationv1.DeleteWebhookRequest) (*emptypb.Empty, error) {
	in, v, err := s.openName(ctx, webhookPattern, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	name := webhookPattern.Format(in.recipient, v[1])
	err = s.units.Do(ctx, func(w *uow.Work) error {
		if err := store.DeleteWebhook(ctx, w.Tx, in.recipient, v[1]); err != nil {
			return err
		}
		return auditChange(w, in, audit.OpDelete, name)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(in, "webhook", name)
	}
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// SearchAuditEntries lists the trail of a claimant's inbox.
func (s *Service) SearchAuditEntries(ctx context.Context, req *auditv1.SearchAuditEntriesRequest) (*auditv1.SearchAuditEntriesResponse, error) {
	return s.audit.Search(ctx, req)
}

// VerifyAuditTrail checks the trail's chain.
func (s *Service) VerifyAuditTrail(ctx context.Context, req *auditv1.VerifyAuditTrailRequest) (*auditv1.VerifyAuditTrailResponse, error) {
	return s.audit.VerifyTrail(ctx, req)
}
