// Package notification makes sure that every fact one actor owes another
// reaches them. It consumes the other services' events and, by the rules in
// internal/routing, puts messages in the recipients' inboxes.
package notification

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
)

// Component describes the service to a host.
var Component = app.Component{
	Name:       "notification",
	Migrations: store.Migrations,
	New: func(d app.Deps) (app.Service, error) {
		return &Service{store: store.New(d.DB), log: d.Logger}, nil
	},
}

// Service implements tia.notification.v1.NotificationService.
type Service struct {
	notificationv1.UnimplementedNotificationServiceServer
	store *store.Store
	log   *slog.Logger
}

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	notificationv1.RegisterNotificationServiceServer(r, s)
}

// Subscriptions reads every producer's stream; the routing table decides
// what each event means.
func (s *Service) Subscriptions() []app.Subscription {
	return []app.Subscription{{Producer: "activity", Handler: s.handle}}
}

// handle routes one event into inboxes, inside the consumer's transaction.
func (s *Service) handle(ctx context.Context, tx *sqlx.Tx, ev events.Event) error {
	rule, ok := routing.Rules[ev.Type]
	if !ok {
		// Not every event concerns anyone; an unknown type is acknowledged
		// so it does not block the stream.
		s.log.DebugContext(ctx, "event without routing rule", "type", ev.Type)
		return nil
	}
	msg := rule.New()
	if err := ev.Decode(msg); err != nil {
		return fmt.Errorf("decode %s: %w", ev.Type, err)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for _, m := range rule.Route(msg) {
		err := store.Deliver(ctx, tx, store.Message{
			Recipient: m.Recipient, ID: uuid.Must(uuid.NewV7()).String(), Topic: rule.Topic,
			Title: m.Title, Body: m.Body, EventID: ev.ID, EventType: ev.Type,
			SubjectResource: m.SubjectResource, CreateTime: now,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// authorize checks that the caller reads its own inbox.
func authorize(ctx context.Context, recipient string) error {
	p, err := auth.Require(ctx)
	if err != nil {
		return err
	}
	if own, ok := routing.RecipientOf(p); !ok || own != recipient {
		return status.Errorf(codes.PermissionDenied, "recipients/%s is not the caller's inbox", recipient)
	}
	return nil
}

// ListMessages lists the caller's inbox, newest first.
func (s *Service) ListMessages(ctx context.Context, req *notificationv1.ListMessagesRequest) (*notificationv1.ListMessagesResponse, error) {
	recipient := strings.TrimPrefix(req.GetParent(), "recipients/")
	if err := authorize(ctx, recipient); err != nil {
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
	resp := &notificationv1.ListMessagesResponse{NextPageToken: next}
	for _, m := range list {
		resp.Messages = append(resp.Messages, toProto(m))
	}
	return resp, nil
}

// GetMessage returns one message of the caller's inbox.
func (s *Service) GetMessage(ctx context.Context, req *notificationv1.GetMessageRequest) (*notificationv1.Message, error) {
	parts := strings.Split(req.GetName(), "/")
	if err := authorize(ctx, parts[1]); err != nil {
		return nil, err
	}
	m, err := s.store.Get(ctx, parts[1], parts[3])
	if err == store.ErrNotFound {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return toProto(m), nil
}

func toProto(m store.Message) *notificationv1.Message {
	p := &notificationv1.Message{
		Name: "recipients/" + m.Recipient + "/messages/" + m.ID, Topic: m.Topic, Title: m.Title, Body: m.Body,
		EventId: m.EventID, EventType: m.EventType, SubjectResource: m.SubjectResource,
	}
	if t, err := time.Parse(time.RFC3339Nano, m.CreateTime); err == nil {
		p.CreateTime = timestamppb.New(t)
	}
	if m.ReadTime.Valid {
		if t, err := time.Parse(time.RFC3339Nano, m.ReadTime.String); err == nil {
			p.ReadTime = timestamppb.New(t)
		}
	}
	return p
}
