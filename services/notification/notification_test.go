package notification

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/app/apptest"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/platform/uow"
)

// inbox is an SMTP server on loopback that keeps what it receives.
type inbox struct {
	mu   sync.Mutex
	mail []string
}

func (b *inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{box: b}, nil }

type smtpSession struct{ box *inbox }

func (*smtpSession) Reset()                               {}
func (*smtpSession) Logout() error                        { return nil }
func (*smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	s.box.mu.Lock()
	s.box.mail = append(s.box.mail, string(raw))
	s.box.mu.Unlock()
	return err
}

func startSMTP(t *testing.T) (string, *inbox) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := &inbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String(), box
}

func newTestService(t *testing.T, dsn string, cfg Config) *Service {
	t.Helper()
	return mustService(t, testDeps(t, dsn), cfg)
}

// testKey is the pseudonym key of the tests.
var testKey = func() *pseudonym.Keyer {
	k, err := pseudonym.New([]byte("the notification tests' own key"), nil)
	if err != nil {
		panic(err)
	}
	return k
}()

// testDeps builds what a host gives the service: the migrated database, a
// unit-of-work runner, the audit trail and the pseudonym key.
func testDeps(t *testing.T, dsn string) app.Deps {
	t.Helper()
	d := apptest.Deps(t, Component, dsn).DB
	for _, migrate := range []func(context.Context, *sqlx.DB) error{uow.Migrate, audit.Migrate} {
		if err := migrate(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	trail := audit.New(d, testKey)
	return app.Deps{DB: d, Logger: slog.Default(), Units: uow.New(d, nil, trail), Audit: trail, Pseudonyms: testKey, Clock: clock.System}
}

func mustService(t *testing.T, d app.Deps, cfg Config) *Service {
	t.Helper()
	s, err := newService(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// apply hands an event to the service as the consumer would, in a
// transaction of its own (without the consumer's processed_events record,
// so that a redelivery reaches the handler again).
func apply(t *testing.T, s *Service, id string, msg proto.Message) {
	t.Helper()
	payload, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	ev := events.Event{ID: id, Type: string(msg.ProtoReflect().Descriptor().FullName()), Payload: payload}
	if err := db.InTx(context.Background(), s.store.DB(), func(tx *sqlx.Tx) error { return s.handle(context.Background(), tx, ev) }); err != nil {
		t.Fatal(err)
	}
}

func as(p auth.Principal) context.Context { return auth.WithPrincipal(context.Background(), p) }

var (
	countyBoard01 = auth.Principal{Subject: "lst", Role: auth.RoleCountyBoard, Lan: "01"}
	organiser     = auth.Principal{Subject: "org", Role: auth.RoleOrganiser, Org: "8020038884"}
)

// TestOncePerRecipientAndChannels: a redelivered event leaves one message per
// recipient; the recipient's subscription decides the language and the
// channels, and email reaches a real SMTP server.
func TestOncePerRecipientAndChannels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		addr, box := startSMTP(t)
		s := newTestService(t, dsn, Config{SMTPAddr: addr, Delivery: dispatchFast})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { _ = s.Run(ctx) }()

		_, err := s.UpdateSubscription(as(countyBoard01), &notificationv1.UpdateSubscriptionRequest{Subscription: &notificationv1.Subscription{
			Name:     "recipients/lansstyrelse-01/subscriptions/travel.route_decided",
			Channels: []notificationv1.Channel{notificationv1.Channel_CHANNEL_EMAIL}, Language: notificationv1.Language_LANGUAGE_EN,
			EmailAddress: "tia@lansstyrelsen.example",
		}})
		if err != nil {
			t.Fatal(err)
		}
		// The organiser is known in län 01 from an activity it registered.
		apply(t, s, "ev-act", &activityv1.ActivityRegistered{Activity: &activityv1.Activity{
			Name: "organisers/8020038884/activities/a1", Title: "Svenska", KommunCode: "0180", LanCode: "01", Capacity: 10,
			StartDate: "2026-01-10", EndDate: "2099-06-30",
		}})
		route := &travelv1.RouteDecided{Route: &travelv1.Route{Name: "routes/r1", FromKommunCode: "0180", ToKommunCode: "0184", ValidFrom: "2026-02-01", ValidTo: "2026-12-31"}}
		for range 3 {
			apply(t, s, "ev-route", route)
		}

		list, err := s.ListMessages(as(countyBoard01), &notificationv1.ListMessagesRequest{Parent: "recipients/lansstyrelse-01"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetMessages()) != 2 {
			t.Fatalf("county board has %d messages, want 2 (activity, route)", len(list.GetMessages()))
		}
		routeMsg := list.GetMessages()[0]
		if routeMsg.GetTopic() != "travel.route_decided" || !strings.HasPrefix(routeMsg.GetTitle(), "Route decision") || routeMsg.GetLanguage() != "en" {
			t.Fatalf("route message = %v", routeMsg)
		}
		if sv := list.GetMessages()[1]; !strings.HasPrefix(sv.GetTitle(), "Ny aktivitet") {
			t.Fatalf("activity message in Swedish = %v", sv)
		}
		orgList, err := s.ListMessages(as(organiser), &notificationv1.ListMessagesRequest{Parent: "recipients/organiser-8020038884"})
		if err != nil || len(orgList.GetMessages()) != 1 {
			t.Fatalf("organiser's inbox = %v, %v", orgList, err)
		}

		// The delivery is recorded as delivered once the SMTP server took it.
		var got *notificationv1.Message
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err = s.GetMessage(as(countyBoard01), &notificationv1.GetMessageRequest{Name: routeMsg.GetName()})
			if err != nil {
				t.Fatal(err)
			}
			if ds := got.GetDeliveries(); len(ds) == 1 && ds[0].GetState() == notificationv1.Delivery_STATE_DELIVERED || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if ds := got.GetDeliveries(); len(ds) != 1 || ds[0].GetState() != notificationv1.Delivery_STATE_DELIVERED || ds[0].GetTarget() != "tia@lansstyrelsen.example" {
			t.Fatalf("deliveries = %v", ds)
		}
		box.mu.Lock()
		mail := append([]string(nil), box.mail...)
		box.mu.Unlock()
		if len(mail) != 1 || !strings.Contains(mail[0], "Route_decision") || !strings.Contains(mail[0], "To: <tia@lansstyrelsen.example>") {
			t.Fatalf("mail = %q", mail)
		}

		n, err := s.CountUnreadMessages(as(countyBoard01), &notificationv1.CountUnreadMessagesRequest{Parent: "recipients/lansstyrelse-01"})
		if err != nil || n.GetUnreadCount() != 2 {
			t.Fatalf("unread = %v, %v", n, err)
		}
		read, err := s.MarkMessageRead(as(countyBoard01), &notificationv1.MarkMessageReadRequest{Name: routeMsg.GetName()})
		if err != nil || read.GetReadTime() == nil {
			t.Fatalf("mark read = %v, %v", read, err)
		}
		n, _ = s.CountUnreadMessages(as(countyBoard01), &notificationv1.CountUnreadMessagesRequest{Parent: "recipients/lansstyrelse-01"})
		if n.GetUnreadCount() != 1 {
			t.Fatalf("unread after marking = %d", n.GetUnreadCount())
		}
	})
}

// TestClaimantInbox: a claim decision reaches the asylum seeker's own
// inbox, which they read as recipients/me; the dossier number appears in no
// name and no text.
func TestClaimantInbox(t *testing.T) {
	s := newTestService(t, dbtest.NewSQLite(t), Config{Delivery: dispatchFast})
	apply(t, s, "ev-claim", &travelv1.ClaimDecided{Claim: &travelv1.Claim{
		Name: "claims/k1", DossierNumber: "12-345678", TripDate: "2026-02-03", FromKommunCode: "0381", ToKommunCode: "0380",
		CostOre: 4550, State: travelv1.ClaimState_CLAIM_STATE_APPROVED,
	}})
	seeker := auth.Principal{Subject: "as", Role: auth.RoleAsylumSeeker, Dossier: "12-345678"}
	list, err := s.ListMessages(as(seeker), &notificationv1.ListMessagesRequest{Parent: "recipients/me"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetMessages()) != 1 {
		t.Fatalf("claimant's inbox = %v", list)
	}
	m := list.GetMessages()[0]
	if !strings.Contains(m.GetBody(), "45,50 kr") || strings.Contains(m.GetName()+m.GetTitle()+m.GetBody(), "345678") {
		t.Fatalf("message = %v", m)
	}
	other := auth.Principal{Subject: "as2", Role: auth.RoleAsylumSeeker, Dossier: "12-999999"}
	if l, err := s.ListMessages(as(other), &notificationv1.ListMessagesRequest{Parent: "recipients/me"}); err != nil || len(l.GetMessages()) != 0 {
		t.Fatalf("another asylum seeker sees %v, %v", l, err)
	}
	if _, err := s.GetMessage(as(other), &notificationv1.GetMessageRequest{Name: m.GetName()}); code(err) != codes.PermissionDenied {
		t.Fatalf("another asylum seeker reads the message: %v", err)
	}
}

// TestWebhookNeedsHTTPS: outside development mode a plain-http webhook is
// refused, naming the field.
func TestWebhookNeedsHTTPS(t *testing.T) {
	s := newTestService(t, dbtest.NewSQLite(t), Config{})
	_, err := s.CreateWebhook(as(countyBoard01), &notificationv1.CreateWebhookRequest{Parent: "recipients/lansstyrelse-01",
		Webhook: &notificationv1.Webhook{Url: "http://intranet.example/tia"}})
	if got := badrequest.Fields(err); len(got) != 1 || got[0] != "webhook.url" {
		t.Fatalf("err = %v", err)
	}
	w, err := s.CreateWebhook(as(countyBoard01), &notificationv1.CreateWebhookRequest{Parent: "recipients/lansstyrelse-01",
		Webhook: &notificationv1.Webhook{Url: "https://intranet.example/tia"}})
	if err != nil || !strings.HasPrefix(w.GetSecret(), "whsec_") {
		t.Fatalf("https webhook = %v, %v", w, err)
	}
	list, err := s.ListWebhooks(as(countyBoard01), &notificationv1.ListWebhooksRequest{Parent: "recipients/lansstyrelse-01"})
	if err != nil || len(list.GetWebhooks()) != 1 || list.GetWebhooks()[0].GetSecret() != "" {
		t.Fatalf("list shows %v, %v", list, err)
	}
}

// TestSubscriptionChangeAppliesAtOnce: a change of channels or language
// applies to the next message, though subscriptions are reused briefly.
func TestSubscriptionChangeAppliesAtOnce(t *testing.T) {
	s := newTestService(t, dbtest.NewSQLite(t), Config{Delivery: dispatchFast})
	route := func(name string) proto.Message {
		return &travelv1.RouteDecided{Route: &travelv1.Route{Name: name, FromKommunCode: "0180", ToKommunCode: "0184", ValidFrom: "2026-02-01", ValidTo: "2026-12-31"}}
	}
	apply(t, s, "ev-1", route("routes/r1"))
	if _, err := s.UpdateSubscription(as(countyBoard01), &notificationv1.UpdateSubscriptionRequest{Subscription: &notificationv1.Subscription{
		Name: "recipients/lansstyrelse-01/subscriptions/travel.route_decided", Language: notificationv1.Language_LANGUAGE_EN,
		Channels: []notificationv1.Channel{notificationv1.Channel_CHANNEL_EMAIL}, EmailAddress: "a@example.org",
	}}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "ev-2", route("routes/r2"))
	list, err := s.ListMessages(as(countyBoard01), &notificationv1.ListMessagesRequest{Parent: "recipients/lansstyrelse-01"})
	if err != nil || len(list.GetMessages()) != 2 {
		t.Fatalf("inbox = %v, %v", list, err)
	}
	newest, oldest := list.GetMessages()[0], list.GetMessages()[1]
	if newest.GetLanguage() != "en" || len(newest.GetDeliveries()) != 1 || oldest.GetLanguage() != "sv" || len(oldest.GetDeliveries()) != 0 {
		t.Fatalf("before the change %v; after %v", oldest, newest)
	}
}
