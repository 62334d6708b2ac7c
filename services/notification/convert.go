package notification

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
)

func languageCode(l notificationv1.Language) string {
	if l == notificationv1.Language_LANGUAGE_EN {
		return routing.English
	}
	return routing.Swedish
}

func toProto(m store.Message, deliveries []store.Delivery) *notificationv1.Message {
	p := &notificationv1.Message{
		Name: messagePattern.Format(m.Recipient, m.ID), Topic: m.Topic, Title: m.Title, Body: m.Body,
		EventId: m.EventID, EventType: m.EventType, SubjectResource: m.SubjectResource,
		CreateTime: timestampFromText(m.CreateTime), Language: m.Language,
	}
	if m.ReadTime.Valid {
		p.ReadTime = timestampFromText(m.ReadTime.String)
	}
	for _, d := range deliveries {
		p.Deliveries = append(p.Deliveries, deliveryToProto(d))
	}
	return p
}

func deliveryToProto(d store.Delivery) *notificationv1.Delivery {
	p := &notificationv1.Delivery{
		Name:     deliveryPattern.Format(d.Recipient, d.MessageID, d.ID),
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
		p.DeliverTime = timestampFromText(d.DeliverTime.String)
	}
	return p
}

func subscriptionToProto(s store.Subscription) *notificationv1.Subscription {
	p := &notificationv1.Subscription{
		Name: subscriptionPattern.Format(s.Recipient, s.Topic), EmailAddress: s.EmailAddress,
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
	p := &notificationv1.Webhook{Name: webhookPattern.Format(w.Recipient, w.ID), Url: w.URL, Description: w.Description, CreateTime: timestampFromText(w.CreateTime)}
	if withSecret {
		p.Secret = w.Secret
	}
	return p
}
