package notification

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	auditv1 "github.com/tia-platform/tia/proto/gen/tia/audit/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/notification/internal/dispatch"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
)

var (
	claimant      = auth.Principal{Subject: "as", Role: auth.RoleAsylumSeeker, Dossier: "12-345678"}
	otherClaimant = auth.Principal{Subject: "as2", Role: auth.RoleAsylumSeeker, Dossier: "12-999999"}
	caseOfficer   = auth.Principal{Subject: "mv", Role: auth.RoleMigrationsverket}
)

func claimDecided(name string) *travelv1.ClaimDecided {
	return &travelv1.ClaimDecided{Claim: &travelv1.Claim{
		Name: name, DossierNumber: "12-345678", TripDate: "2026-02-03", FromKommunCode: "0381", ToKommunCode: "0380",
		CostOre: 4550, State: travelv1.ClaimState_CLAIM_STATE_APPROVED,
	}}
}

// TestClaimantInboxAudited: the message put in a claimant's inbox, the
// claimant's reads and changes of it are in the audit trail under the
// person's pseudonym; the claimant lists who touched their inbox,
// Migrationsverket lists it by dossier number, nobody else may; the chain
// verifies. Refusals name no inbox (their messages are logged).
func TestClaimantInboxAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		s := newTestService(t, dsn, Config{Delivery: dispatchFast})
		apply(t, s, "ev-claim", claimDecided("claims/k1"))
		list, err := s.ListMessages(as(claimant), &notificationv1.ListMessagesRequest{Parent: "recipients/me"})
		if err != nil || len(list.GetMessages()) != 1 {
			t.Fatalf("inbox = %v, %v", list, err)
		}
		name := list.GetMessages()[0].GetName()
		if _, err := s.GetMessage(as(claimant), &notificationv1.GetMessageRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkMessageRead(as(claimant), &notificationv1.MarkMessageReadRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
		// Another person is refused without learning whose inbox it is.
		_, err = s.GetMessage(as(otherClaimant), &notificationv1.GetMessageRequest{Name: name})
		if code(err) != codes.PermissionDenied || strings.Contains(err.Error(), "asylsokande") || strings.Contains(err.Error(), testKey.Of("12-345678")) {
			t.Fatalf("another person: %v", err)
		}

		// Nor does a message that is not there name the inbox.
		_, err = s.GetMessage(as(claimant), &notificationv1.GetMessageRequest{Name: "recipients/me/messages/nothing"})
		if code(err) != codes.NotFound || strings.Contains(err.Error(), "asylsokande") || strings.Contains(err.Error(), testKey.Of("12-345678")) {
			t.Fatalf("a missing message: %v", err)
		}

		own, err := s.SearchAuditEntries(as(claimant), &auditv1.SearchAuditEntriesRequest{Parent: "auditTrails/notification"})
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for _, e := range own.GetAuditEntries() {
			ops = append(ops, e.GetOperation()+" by "+e.GetRole())
			if e.GetPerson() != testKey.Of("12-345678") {
				t.Errorf("entry %v is not under the person's pseudonym", e)
			}
			if strings.Contains(e.GetResource()+e.GetSubject()+e.GetScope(), "345678") {
				t.Errorf("entry %v carries the dossier number", e)
			}
		}
		want := []string{"create by system", "list by asylum_seeker", "read by asylum_seeker", "update by asylum_seeker"}
		if strings.Join(ops, ", ") != strings.Join(want, ", ") {
			t.Fatalf("trail = %v, want %v", ops, want)
		}
		byMV, err := s.SearchAuditEntries(as(caseOfficer), &auditv1.SearchAuditEntriesRequest{Parent: "auditTrails/notification", DossierNumber: "12-345678"})
		if err != nil || len(byMV.GetAuditEntries()) < len(want) {
			t.Fatalf("Migrationsverket's search = %v, %v", byMV, err)
		}
		if _, err := s.SearchAuditEntries(as(otherClaimant), &auditv1.SearchAuditEntriesRequest{Parent: "auditTrails/notification", DossierNumber: "12-345678"}); code(err) != codes.PermissionDenied {
			t.Fatalf("another person's search: %v", err)
		}
		if _, err := s.SearchAuditEntries(as(countyBoard01), &auditv1.SearchAuditEntriesRequest{Parent: "auditTrails/notification", DossierNumber: "12-345678"}); code(err) != codes.PermissionDenied {
			t.Fatalf("a county board's search: %v", err)
		}
		v, err := s.VerifyAuditTrail(as(caseOfficer), &auditv1.VerifyAuditTrailRequest{Name: "auditTrails/notification"})
		if err != nil || !v.GetIntact() || v.GetEntriesChecked() < int64(len(want)) {
			t.Fatalf("verify = %v, %v", v, err)
		}
		// An organisation's inbox is not personal data: not audited.
		before := v.GetEntriesChecked()
		if _, err := s.ListMessages(as(countyBoard01), &notificationv1.ListMessagesRequest{Parent: "recipients/me"}); err != nil {
			t.Fatal(err)
		}
		after, err := s.VerifyAuditTrail(as(caseOfficer), &auditv1.VerifyAuditTrailRequest{Name: "auditTrails/notification"})
		if err != nil || after.GetEntriesChecked() != before {
			t.Fatalf("reading an organisation's inbox: %d entries, was %d (%v)", after.GetEntriesChecked(), before, err)
		}
	})
}

// steppedClock is a clock the test moves.
type steppedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *steppedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *steppedClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRetention: past the configured window, a claimant's messages and
// their deliveries are deleted (and the deletion is audited under the
// person's pseudonym), finished deliveries of organisations too, while
// organisations' messages and pending deliveries stay. Two replicas on one
// database: one run deletes, the other finds the job held or done.
func TestRetention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := &steppedClock{t: time.Now().UTC()}
		d := testDeps(t, dsn)
		d.Clock = clk.now
		cfg := Config{Delivery: dispatchFast, InboxRetention: 30 * 24 * time.Hour, DeliveryRetention: 7 * 24 * time.Hour, RetentionInterval: time.Hour}
		a, b := mustService(t, d, cfg), mustService(t, d, cfg)

		apply(t, a, "ev-claim", claimDecided("claims/k1"))
		apply(t, a, "ev-route", &travelv1.RouteDecided{Route: &travelv1.Route{Name: "routes/r1", FromKommunCode: "0180", ToKommunCode: "0184", ValidFrom: "2026-02-01", ValidTo: "2026-12-31"}})
		// A finished and a pending delivery of the county board.
		board, err := a.ListMessages(as(countyBoard01), &notificationv1.ListMessagesRequest{Parent: "recipients/lansstyrelse-01"})
		if err != nil || len(board.GetMessages()) != 1 {
			t.Fatalf("county board's inbox = %v, %v", board, err)
		}
		msgID := strings.TrimPrefix(board.GetMessages()[0].GetName(), "recipients/lansstyrelse-01/messages/")
		for i, state := range []string{store.StateDelivered, store.StatePending} {
			_, err := d.DB.Exec(d.DB.Rebind("INSERT INTO deliveries (id, recipient, message_id, channel, target, state, next_attempt_ms, create_time) VALUES (?, ?, ?, 'email', ?, ?, ?, ?)"),
				fmt.Sprintf("d%d", i), "lansstyrelse-01", msgID, fmt.Sprintf("a%d@example.org", i), state, clk.now().Add(24*time.Hour).UnixMilli(), timeText(clk.now()))
			if err != nil {
				t.Fatal(err)
			}
		}

		// Within the window nothing goes.
		if rep, err := a.retention.once(ctx); err != nil || rep == nil || rep.Messages != 0 || rep.Deliveries != 0 {
			t.Fatalf("first run = %+v, %v", rep, err)
		}
		clk.add(31 * 24 * time.Hour)
		var ran []*retentionReport
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, s := range []*Service{a, b} {
			wg.Go(func() {
				rep, err := s.retention.once(ctx)
				if err != nil {
					t.Error(err)
				}
				if rep != nil {
					mu.Lock()
					ran = append(ran, rep)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(ran) != 1 || ran[0].Messages != 1 || ran[0].Deliveries != 1 {
			t.Fatalf("runs = %+v, want one that deleted 1 message and 1 delivery", ran)
		}
		if l, err := a.ListMessages(as(claimant), &notificationv1.ListMessagesRequest{Parent: "recipients/me"}); err != nil || len(l.GetMessages()) != 0 {
			t.Fatalf("claimant's inbox after retention = %v, %v", l, err)
		}
		l, err := a.ListMessages(as(countyBoard01), &notificationv1.ListMessagesRequest{Parent: "recipients/lansstyrelse-01"})
		if err != nil || len(l.GetMessages()) != 1 || len(l.GetMessages()[0].GetDeliveries()) != 1 ||
			l.GetMessages()[0].GetDeliveries()[0].GetState() != notificationv1.Delivery_STATE_PENDING {
			t.Fatalf("county board's inbox after retention = %v, %v", l, err)
		}
		trail, err := a.SearchAuditEntries(as(caseOfficer), &auditv1.SearchAuditEntriesRequest{Parent: "auditTrails/notification", DossierNumber: "12-345678"})
		if err != nil {
			t.Fatal(err)
		}
		anonymised := 0
		for _, e := range trail.GetAuditEntries() {
			if e.GetOperation() == audit.OpAnonymise {
				anonymised++
			}
		}
		if anonymised != 1 {
			t.Fatalf("trail has %d retention entries, want 1: %v", anonymised, trail)
		}
		// The job is not due again within its interval.
		if rep, err := b.retention.once(ctx); err != nil || rep != nil {
			t.Fatalf("a run within the interval: %+v, %v", rep, err)
		}
	})
}

// TestNationalView: Migrationsverket's recipients/me shows what reaches its
// regional inboxes, filterable by län, and counts them; a county board's
// own inbox does not widen.
func TestNationalView(t *testing.T) {
	s := newTestService(t, dbtest.NewSQLite(t), Config{Delivery: dispatchFast})
	for i, lan := range []string{"05", "12", "05"} {
		apply(t, s, fmt.Sprintf("ev-%d", i), &activityv1.ParticipationEnded{
			Certificate: fmt.Sprintf("organisers/8020038884/activities/a1/certificates/c%d", i), Activity: "organisers/8020038884/activities/a1",
			DossierNumber: "12-345678", Outcome: activityv1.Participation_PARTICIPATION_DROPPED_OUT, EndDate: "2026-03-01",
			KommunCode: lan + "80", LanCode: lan,
		})
	}
	all, err := s.ListMessages(as(caseOfficer), &notificationv1.ListMessagesRequest{Parent: "recipients/me"})
	if err != nil || len(all.GetMessages()) != 3 {
		t.Fatalf("national view = %v, %v", all, err)
	}
	for _, m := range all.GetMessages() {
		if !strings.HasPrefix(m.GetName(), "recipients/migrationsverket-") || strings.Contains(m.GetBody(), "345678") {
			t.Fatalf("message %v", m)
		}
	}
	five, err := s.ListMessages(as(caseOfficer), &notificationv1.ListMessagesRequest{Parent: "recipients/me", Filter: `lan_code = "05"`})
	if err != nil || len(five.GetMessages()) != 2 {
		t.Fatalf("län 05 = %v, %v", five, err)
	}
	n, err := s.CountUnreadMessages(as(caseOfficer), &notificationv1.CountUnreadMessagesRequest{Parent: "recipients/me", Filter: `lanCode = "12"`})
	if err != nil || n.GetUnreadCount() != 1 {
		t.Fatalf("unread in län 12 = %v, %v", n, err)
	}
	// The message is read (and marked) by its regional name.
	if _, err := s.MarkMessageRead(as(caseOfficer), &notificationv1.MarkMessageReadRequest{Name: five.GetMessages()[0].GetName()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListMessages(as(caseOfficer), &notificationv1.ListMessagesRequest{Parent: "recipients/me", Filter: `kommun = "0580"`}); code(err) != codes.InvalidArgument {
		t.Fatalf("unknown filter field: %v", err)
	}
	board, err := s.ListMessages(as(auth.Principal{Subject: "l", Role: auth.RoleCountyBoard, Lan: "05"}), &notificationv1.ListMessagesRequest{Parent: "recipients/me"})
	if err != nil || len(board.GetMessages()) != 0 {
		t.Fatalf("county board 05 sees %v, %v", board, err)
	}
}

// TestForumScope: minutes and feedback are read by the forum's members,
// its county board and Migrationsverket; others are refused before
// anything is checked or read; the public calendar carries neither.
func TestForumScope(t *testing.T) {
	s := newTestService(t, dbtest.NewSQLite(t), Config{Delivery: dispatchFast})
	board := as(countyBoard01)
	if _, err := s.CreateForumMember(board, &notificationv1.CreateForumMemberRequest{Parent: "lan/01",
		Member: &notificationv1.ForumMember{Recipient: "organiser-8020038884", DisplayName: "Member"}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
	m, err := s.CreateMeeting(board, &notificationv1.CreateMeetingRequest{Parent: "lan/01", Meeting: &notificationv1.Meeting{
		Title: "Forum", Level: notificationv1.CooperationLevel_COOPERATION_LEVEL_SAMRAD,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordFeedback(board, &notificationv1.RecordFeedbackRequest{Name: m.GetName(),
		Feedback: &notificationv1.Feedback{Respondent: "organiser-8020038884", Response: "Hemligt svar", Outcome: "Beaktat"}}); err != nil {
		t.Fatal(err)
	}
	readers := map[string]auth.Principal{
		"member":           organiser,
		"county board":     countyBoard01,
		"Migrationsverket": caseOfficer,
	}
	for who, p := range readers {
		got, err := s.GetMeeting(as(p), &notificationv1.GetMeetingRequest{Name: m.GetName()})
		if err != nil || len(got.GetFeedback()) != 1 {
			t.Errorf("%s: %v, %v", who, got, err)
		}
		if _, err := s.ListMeetings(as(p), &notificationv1.ListMeetingsRequest{Parent: "lan/01"}); err != nil {
			t.Errorf("%s lists: %v", who, err)
		}
	}
	outsiders := map[string]auth.Principal{
		"another organiser":    {Subject: "o", Role: auth.RoleOrganiser, Org: "8176055559"},
		"another county board": {Subject: "l", Role: auth.RoleCountyBoard, Lan: "12"},
		"Folkbildningsrådet":   {Subject: "f", Role: auth.RoleFolkbildningsradet},
		"an asylum seeker":     claimant,
	}
	for who, p := range outsiders {
		if _, err := s.GetMeeting(as(p), &notificationv1.GetMeetingRequest{Name: m.GetName()}); code(err) != codes.PermissionDenied {
			t.Errorf("%s reads the meeting: %v", who, err)
		}
		if _, err := s.ListMeetings(as(p), &notificationv1.ListMeetingsRequest{Parent: "lan/01"}); code(err) != codes.PermissionDenied {
			t.Errorf("%s lists the meetings: %v", who, err)
		}
		// Refused before the name is looked at: no 404 that tells what exists.
		if _, err := s.GetMeeting(as(p), &notificationv1.GetMeetingRequest{Name: "lan/01/meetings/nothing"}); code(err) != codes.PermissionDenied {
			t.Errorf("%s asks for a meeting that does not exist: %v", who, err)
		}
	}
	cal, err := s.GetMeetingCalendar(context.Background(), &notificationv1.GetMeetingCalendarRequest{Parent: "lan/01"})
	if err != nil || !strings.Contains(string(cal.GetData()), "Forum") || strings.Contains(string(cal.GetData()), "Hemligt") {
		t.Fatalf("calendar = %s, %v", cal.GetData(), err)
	}
}

// TestRegistryContacts: the participant contacts an organiser keeps in the
// activity registry appear in each län's public directory without being
// entered again; an older event changes nothing; they are changed in the
// registry, not here.
func TestRegistryContacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		s := newTestService(t, dsn, Config{Delivery: dispatchFast})
		now := time.Now().UTC()
		apply(t, s, "ev-reg", &activityv1.OrganiserRegistered{Organiser: &activityv1.Organiser{
			Name: "organisers/8020038884", OrgNumber: "8020038884", DisplayName: "Studieförbundet Demo", CreateTime: timestamppb.New(now),
			Contacts: []*activityv1.Contact{
				{Role: activityv1.ContactRole_CONTACT_ROLE_PARTICIPANTS, DisplayName: "Kursanmälan", Email: "kurs@demo.example", LanCodes: []string{"05"}},
				{Role: activityv1.ContactRole_CONTACT_ROLE_REGIONAL, DisplayName: "Regionchef", Email: "chef@demo.example", LanCodes: []string{"05"}},
			},
		}})
		public := func() []*notificationv1.Contact {
			t.Helper()
			l, err := s.ListContacts(context.Background(), &notificationv1.ListContactsRequest{Parent: "lan/05"})
			if err != nil {
				t.Fatal(err)
			}
			return l.GetContacts()
		}
		got := public()
		if len(got) != 1 || got[0].GetEmail() != "kurs@demo.example" || got[0].GetActor() != "organiser-8020038884" || !got[0].GetPublic() {
			t.Fatalf("län 05's public directory = %v", got)
		}
		apply(t, s, "ev-changed", &activityv1.OrganiserContactsChanged{
			Organiser: "organisers/8020038884", OrganiserDisplayName: "Studieförbundet Demo", UpdateTime: timestamppb.New(now.Add(time.Minute)),
			Lans: []*activityv1.LanParticipantContacts{
				{LanCode: "05", Contacts: []*activityv1.Contact{{Role: activityv1.ContactRole_CONTACT_ROLE_PARTICIPANTS, DisplayName: "Ny", Phone: "013-12 34 56"}}},
				{LanCode: "12", Contacts: []*activityv1.Contact{{Role: activityv1.ContactRole_CONTACT_ROLE_PARTICIPANTS, DisplayName: "Skåne", Email: "skane@demo.example"}}},
			},
		})
		// An event older than what is held (redelivered late) is ignored.
		apply(t, s, "ev-old", &activityv1.OrganiserContactsChanged{Organiser: "organisers/8020038884", UpdateTime: timestamppb.New(now.Add(-time.Hour))})
		got = public()
		if len(got) != 1 || got[0].GetPhone() != "013-12 34 56" {
			t.Fatalf("län 05 after the change = %v", got)
		}
		skane, err := s.ListContacts(as(organiser), &notificationv1.ListContactsRequest{Parent: "lan/12"})
		if err != nil || len(skane.GetContacts()) != 1 {
			t.Fatalf("län 12 = %v, %v", skane, err)
		}
		if _, err := s.DeleteContact(as(organiser), &notificationv1.DeleteContactRequest{Name: got[0].GetName()}); code(err) != codes.FailedPrecondition {
			t.Fatalf("deleting a registry contact here: %v", err)
		}
		if _, err := s.DeleteContact(as(auth.Principal{Subject: "o", Role: auth.RoleOrganiser, Org: "8176055559"}), &notificationv1.DeleteContactRequest{Name: got[0].GetName()}); code(err) != codes.PermissionDenied {
			t.Fatalf("another organiser deletes it: %v", err)
		}
	})
}

// TestWebhooksOnlyForOrganisations: a person cannot register a webhook;
// addresses inside are refused at creation, naming the field; an allow-
// listed development receiver is accepted.
func TestWebhooksOnlyForOrganisations(t *testing.T) {
	s := newTestService(t, dbtest.NewSQLite(t), Config{WebhookAllowHosts: "127.0.0.1:8765"})
	if _, err := s.CreateWebhook(as(claimant), &notificationv1.CreateWebhookRequest{Parent: "recipients/me",
		Webhook: &notificationv1.Webhook{Url: "https://example.org/hook"}}); code(err) != codes.PermissionDenied {
		t.Fatalf("an asylum seeker's webhook: %v", err)
	}
	// Refused before the URL is looked at.
	if _, err := s.CreateWebhook(as(claimant), &notificationv1.CreateWebhookRequest{Parent: "recipients/me",
		Webhook: &notificationv1.Webhook{Url: "not a url"}}); code(err) != codes.PermissionDenied {
		t.Fatalf("an asylum seeker's bad webhook: %v", err)
	}
	for _, u := range []string{"https://127.0.0.1:8766/", "https://10.0.0.1/", "https://169.254.169.254/latest/meta-data", "https://2130706433/", "https://[::ffff:127.0.0.1]/", "https://metadata.google.internal/"} {
		if _, err := s.CreateWebhook(as(countyBoard01), &notificationv1.CreateWebhookRequest{Parent: "recipients/lansstyrelse-01",
			Webhook: &notificationv1.Webhook{Url: u}}); code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := s.CreateWebhook(as(countyBoard01), &notificationv1.CreateWebhookRequest{Parent: "recipients/lansstyrelse-01",
		Webhook: &notificationv1.Webhook{Url: "http://127.0.0.1:8765/tia"}}); err != nil {
		t.Fatalf("allow-listed receiver: %v", err)
	}
}

// TestNoPersonInLogs: what the service logs while a claimant's email
// delivery fails and is dead-lettered carries neither the dossier number,
// nor the inbox's pseudonym, nor the address.
func TestNoPersonInLogs(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	d := testDeps(t, dbtest.NewSQLite(t))
	d.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := mustService(t, d, Config{Delivery: dispatch.Config{MaxAttempts: 1, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, PollInterval: 10 * time.Millisecond}})
	if _, err := s.UpdateSubscription(as(claimant), &notificationv1.UpdateSubscriptionRequest{Subscription: &notificationv1.Subscription{
		Name: "recipients/me/subscriptions/travel.claim_decided", Channels: []notificationv1.Channel{notificationv1.Channel_CHANNEL_EMAIL},
		EmailAddress: "person@example.org",
	}}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "ev-claim", claimDecided("claims/k1"))
	apply(t, s, "ev-unknown", &activityv1.ActivityUpdated{}) // an event nobody is told of is logged too
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.dispatch.RunOnce(context.Background()); err != nil {
			t.Log(err)
		}
		dead, err := s.ListDeadLetters(as(claimant), &notificationv1.ListDeadLettersRequest{Parent: "recipients/me"})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead.GetDeliveries()) == 1 {
			if got := dead.GetDeliveries()[0].GetLastError(); !strings.HasPrefix(got, "failed") {
				t.Fatalf("last error %q", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not dead-lettered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "dead-lettered") {
		t.Fatalf("nothing logged: %s", out)
	}
	for _, secret := range []string{"12-345678", "345678", testKey.Of("12-345678"), "asylsokande", "person@example.org"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log carries %q:\n%s", secret, out)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
