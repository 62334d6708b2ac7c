package notification

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/domain"
	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/listing"
)

// authorize checks that the caller reads its own inbox (or, for
// Migrationsverket, one of its regional ones). `recipients/me` is the
// caller's own inbox; *recipient is replaced by its id (an asylum seeker
// cannot know the pseudonym of theirs).
func authorize(ctx context.Context, recipient *string) error {
	p, err := auth.Require(ctx)
	if err != nil {
		return err
	}
	if *recipient == "me" {
		own, ok := routing.RecipientOf(p)
		if !ok {
			return status.Error(codes.PermissionDenied, "the caller has no inbox")
		}
		*recipient = own
	}
	if !routing.MayRead(p, *recipient) {
		return status.Errorf(codes.PermissionDenied, "recipients/%s is not the caller's inbox", *recipient)
	}
	return nil
}

// segment returns the i-th path segment of a resource name whose shape the
// request validation has checked.
func segment(name string, i int) string {
	parts := strings.Split(name, "/")
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// ListMessages lists the caller's inbox, newest first.
func (s *Service) ListMessages(ctx context.Context, req *notificationv1.ListMessagesRequest) (*notificationv1.ListMessagesResponse, error) {
	recipient := segment(req.GetParent(), 1)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.List(ctx, recipient, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	ids := make([]string, len(list))
	for i, m := range list {
		ids[i] = m.ID
	}
	deliveries, err := s.store.DeliveriesOf(ctx, recipient, ids)
	if err != nil {
		return nil, err
	}
	resp := &notificationv1.ListMessagesResponse{NextPageToken: next}
	for _, m := range list {
		resp.Messages = append(resp.Messages, toProto(m, deliveries[m.ID]))
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
	recipient, id := segment(name, 1), segment(name, 3)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	var m store.Message
	var err error
	if markRead {
		m, err = s.store.MarkRead(ctx, recipient, id, s.now())
	} else {
		m, err = s.store.Get(ctx, recipient, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", name)
	}
	if err != nil {
		return nil, err
	}
	deliveries, err := s.store.DeliveriesOf(ctx, recipient, []string{id})
	if err != nil {
		return nil, err
	}
	return toProto(m, deliveries[id]), nil
}

// CountUnreadMessages counts the caller's unread messages.
func (s *Service) CountUnreadMessages(ctx context.Context, req *notificationv1.CountUnreadMessagesRequest) (*notificationv1.CountUnreadMessagesResponse, error) {
	recipient := segment(req.GetParent(), 1)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	n, err := s.store.CountUnread(ctx, recipient)
	if err != nil {
		return nil, err
	}
	return &notificationv1.CountUnreadMessagesResponse{UnreadCount: n}, nil
}

// ListDeadLetters lists the caller's dead-lettered deliveries.
func (s *Service) ListDeadLetters(ctx context.Context, req *notificationv1.ListDeadLettersRequest) (*notificationv1.ListDeadLettersResponse, error) {
	recipient := segment(req.GetParent(), 1)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.DeadLetters(ctx, recipient, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &notificationv1.ListDeadLettersResponse{NextPageToken: next}
	for _, d := range list {
		resp.Deliveries = append(resp.Deliveries, deliveryToProto(d))
	}
	return resp, nil
}

// ReplayDelivery queues a dead-lettered delivery again.
func (s *Service) ReplayDelivery(ctx context.Context, req *notificationv1.ReplayDeliveryRequest) (*notificationv1.Delivery, error) {
	recipient, message, id := segment(req.GetName(), 1), segment(req.GetName(), 3), segment(req.GetName(), 5)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	d, err := s.store.Replay(ctx, recipient, message, id, s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	case errors.Is(err, store.ErrNotDeadLettered):
		return nil, status.Errorf(codes.FailedPrecondition, "%s is %s, not dead-lettered", req.GetName(), d.State)
	case err != nil:
		return nil, err
	}
	s.dispatch.Wake()
	return deliveryToProto(d), nil
}

// GetSubscription returns the caller's choice for a topic (the default,
// inbox only in Swedish, when it made none).
func (s *Service) GetSubscription(ctx context.Context, req *notificationv1.GetSubscriptionRequest) (*notificationv1.Subscription, error) {
	recipient, topic := segment(req.GetName(), 1), segment(req.GetName(), 3)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	if !routing.KnownTopic(topic) {
		return nil, status.Errorf(codes.NotFound, "%s not found: unknown topic", req.GetName())
	}
	sub, _, err := store.GetSubscription(ctx, s.store.DB(), recipient, topic)
	if err != nil {
		return nil, err
	}
	return subscriptionToProto(sub), nil
}

// ListSubscriptions lists the caller's subscriptions.
func (s *Service) ListSubscriptions(ctx context.Context, req *notificationv1.ListSubscriptionsRequest) (*notificationv1.ListSubscriptionsResponse, error) {
	recipient := segment(req.GetParent(), 1)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListSubscriptions(ctx, recipient, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &notificationv1.ListSubscriptionsResponse{NextPageToken: next}
	for _, sub := range list {
		resp.Subscriptions = append(resp.Subscriptions, subscriptionToProto(sub))
	}
	return resp, nil
}

// UpdateSubscription sets the caller's channels and language for a topic.
func (s *Service) UpdateSubscription(ctx context.Context, req *notificationv1.UpdateSubscriptionRequest) (*notificationv1.Subscription, error) {
	in := req.GetSubscription()
	recipient, topic := segment(in.GetName(), 1), segment(in.GetName(), 3)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	cur, _, err := store.GetSubscription(ctx, s.store.DB(), recipient, topic)
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		paths = []string{"channels", "language", "email_address"}
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
			return nil, badrequest.Field("update_mask", "unknown field "+p+"; use channels, language, email_address")
		}
	}
	err = domain.CheckSubscription(domain.Subscription{
		Topic: topic, Email: cur.HasChannel(store.ChannelEmail), Webhook: cur.HasChannel(store.ChannelWebhook), EmailAddress: cur.EmailAddress,
	}, routing.KnownTopic, routing.Topics())
	if err != nil {
		return nil, badrequest.Prefix("subscription", err)
	}
	if err := s.store.PutSubscription(ctx, cur); err != nil {
		return nil, err
	}
	s.subs.forget(recipient, topic)
	return subscriptionToProto(cur), nil
}

// CreateWebhook registers a webhook for the caller and returns its secret.
func (s *Service) CreateWebhook(ctx context.Context, req *notificationv1.CreateWebhookRequest) (*notificationv1.Webhook, error) {
	recipient := segment(req.GetParent(), 1)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	if err := domain.CheckWebhookURL(req.GetWebhook().GetUrl(), s.cfg.Development); err != nil {
		return nil, badrequest.Prefix("webhook", err)
	}
	var key [32]byte
	_, _ = rand.Read(key[:])
	w := store.Webhook{
		Recipient: recipient, ID: uuid.Must(uuid.NewV7()).String(), URL: req.GetWebhook().GetUrl(),
		Description: req.GetWebhook().GetDescription(), Secret: "whsec_" + hex.EncodeToString(key[:]),
		CreateTime: s.now().UTC().Format(time.RFC3339Nano),
	}
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return nil, err
	}
	return webhookToProto(w, true), nil
}

// ListWebhooks lists the caller's webhooks without their secrets.
func (s *Service) ListWebhooks(ctx context.Context, req *notificationv1.ListWebhooksRequest) (*notificationv1.ListWebhooksResponse, error) {
	recipient := segment(req.GetParent(), 1)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListWebhooks(ctx, recipient, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &notificationv1.ListWebhooksResponse{NextPageToken: next}
	for _, w := range list {
		resp.Webhooks = append(resp.Webhooks, webhookToProto(w, false))
	}
	return resp, nil
}

// DeleteWebhook removes one of the caller's webhooks; its pending
// deliveries are dead-lettered when next tried.
func (s *Service) DeleteWebhook(ctx context.Context, req *notificationv1.DeleteWebhookRequest) (*emptypb.Empty, error) {
	recipient, id := segment(req.GetName(), 1), segment(req.GetName(), 3)
	if err := authorize(ctx, &recipient); err != nil {
		return nil, err
	}
	if err := s.store.DeleteWebhook(ctx, recipient, id); errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	} else if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func languageCode(l notificationv1.Language) string {
	if l == notificationv1.Language_LANGUAGE_EN {
		return routing.English
	}
	return routing.Swedish
}

func parseTime(s string) *timestamppb.Timestamp {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return timestamppb.New(t)
}

func toProto(m store.Message, deliveries []store.Delivery) *notificationv1.Message {
	p := &notificationv1.Message{
		Name: "recipients/" + m.Recipient + "/messages/" + m.ID, Topic: m.Topic, Title: m.Title, Body: m.Body,
		EventId: m.EventID, EventType: m.EventType, SubjectResource: m.SubjectResource,
		CreateTime: parseTime(m.CreateTime), Language: m.Language,
	}
	if m.ReadTime.Valid {
		p.ReadTime = parseTime(m.ReadTime.String)
	}
	for _, d := range deliveries {
		p.Deliveries = append(p.Deliveries, deliveryToProto(d))
	}
	return p
}

func deliveryToProto(d store.Delivery) *notificationv1.Delivery {
	p := &notificationv1.Delivery{
		Name:     "recipients/" + d.Recipient + "/messages/" + d.MessageID + "/deliveries/" + d.ID,
		Target:   d.Target,
		Attempts: int32(d.Attempts), LastError: d.LastError,
	}
	switch d.Channel {
	case store.ChannelEmail:
		p.Channel = notificationv1.Channel_CHANNEL_EMAIL
	case store.ChannelWebhook:
		p.Channel = notificationv1.Channel_CHANNEL_WEBHOOK
	}
	switch d.State {
	case store.StatePending:
		p.State = notificationv1.Delivery_STATE_PENDING
		p.NextAttemptTime = timestamppb.New(time.UnixMilli(d.NextAttemptMS))
	case store.StateDelivered:
		p.State = notificationv1.Delivery_STATE_DELIVERED
	case store.StateDeadLettered:
		p.State = notificationv1.Delivery_STATE_DEAD_LETTERED
	}
	if d.DeliverTime.Valid {
		p.DeliverTime = parseTime(d.DeliverTime.String)
	}
	return p
}

func subscriptionToProto(s store.Subscription) *notificationv1.Subscription {
	p := &notificationv1.Subscription{
		Name: "recipients/" + s.Recipient + "/subscriptions/" + s.Topic, EmailAddress: s.EmailAddress,
		Language: notificationv1.Language_LANGUAGE_SV,
	}
	if s.Language == routing.English {
		p.Language = notificationv1.Language_LANGUAGE_EN
	}
	p.Channels = []notificationv1.Channel{notificationv1.Channel_CHANNEL_INBOX}
	if s.HasChannel(store.ChannelEmail) {
		p.Channels = append(p.Channels, notificationv1.Channel_CHANNEL_EMAIL)
	}
	if s.HasChannel(store.ChannelWebhook) {
		p.Channels = append(p.Channels, notificationv1.Channel_CHANNEL_WEBHOOK)
	}
	return p
}

func webhookToProto(w store.Webhook, withSecret bool) *notificationv1.Webhook {
	p := &notificationv1.Webhook{Name: webhookName(w), Url: w.URL, Description: w.Description, CreateTime: parseTime(w.CreateTime)}
	if withSecret {
		p.Secret = w.Secret
	}
	return p
}
