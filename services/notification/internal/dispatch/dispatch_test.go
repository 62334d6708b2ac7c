package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jmoiron/sqlx"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// mailbox is a real SMTP server on loopback that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	mail []string // "to\nraw message"
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{box: b}, nil }

func (b *mailbox) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.mail...)
}

type session struct {
	box *mailbox
	to  []string
}

func (s *session) Reset()                                    { s.to = nil }
func (s *session) Logout() error                             { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.mail = append(s.box.mail, strings.Join(s.to, ",")+"\n"+string(raw))
	s.box.mu.Unlock()
	return nil
}

// target is a server on a fixed loopback port that can be taken down (the
// port refuses connections) and brought back.
type target struct {
	t     *testing.T
	addr  string
	serve func(net.Listener) (stop func())
	stop  func()
}

func newTarget(t *testing.T, serve func(net.Listener) (stop func())) *target {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{t: t, addr: l.Addr().String(), serve: serve}
	tg.stop = serve(l)
	t.Cleanup(tg.down)
	return tg
}

func (tg *target) down() {
	if tg.stop != nil {
		tg.stop()
		tg.stop = nil
	}
}

func (tg *target) up() {
	var l net.Listener
	var err error
	for range 50 { // the port may linger briefly after close
		if l, err = net.Listen("tcp", tg.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tg.t.Fatal(err)
	}
	tg.stop = tg.serve(l)
}

func smtpTarget(t *testing.T, box *mailbox) *target {
	return newTarget(t, func(l net.Listener) func() {
		srv := smtp.NewServer(box)
		srv.Domain = "localhost"
		srv.AllowInsecureAuth = true
		go func() { _ = srv.Serve(l) }()
		// Closing the listener too covers a Close that comes before Serve
		// has taken it.
		return func() { _ = srv.Close(); _ = l.Close() }
	})
}

type hookCall struct {
	header http.Header
	body   []byte
}

func webhookTarget(t *testing.T) (*target, chan hookCall) {
	calls := make(chan hookCall, 100)
	return newTarget(t, func(l net.Listener) func() {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			calls <- hookCall{header: r.Header.Clone(), body: body}
		}), ReadHeaderTimeout: time.Second}
		go func() { _ = srv.Serve(l) }()
		return func() { _ = srv.Close(); _ = l.Close() }
	}), calls
}

// allow is the guard of a test receiver on loopback: the allow-list of
// development receivers names it.
func allow(t *testing.T, addr string) *Guard {
	t.Helper()
	list, err := ParseAllowList(addr)
	if err != nil {
		t.Fatal(err)
	}
	return NewGuard(list)
}

func createWebhook(t *testing.T, st *store.Store, w store.Webhook) {
	t.Helper()
	if err := store.CreateWebhook(context.Background(), st.DB(), w); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, dsn string) *store.Store {
	d := dbtest.Open(t, dsn)
	if err := db.Migrate(context.Background(), d, store.Migrations, "notification_migrations"); err != nil {
		t.Fatal(err)
	}
	return store.New(d)
}

// queue writes a message with one email and one webhook delivery, as the
// service does.
func queue(t *testing.T, st *store.Store, id, email string, hook store.Webhook) {
	ctx := context.Background()
	now := time.Now().UTC()
	err := db.InTx(ctx, st.DB(), func(tx *sqlx.Tx) error {
		m := store.Message{Recipient: hook.Recipient, ID: id, Topic: "travel.route_decided", Title: "Beslut om resväg", Body: "Resor ersätts.",
			EventID: "ev-" + id, EventType: "tia.travel.v1.RouteDecided", SubjectResource: "routes/r1", CreateTime: now.Format(time.RFC3339Nano)}
		if _, err := store.Deliver(ctx, tx, m); err != nil {
			return err
		}
		base := store.Delivery{Recipient: m.Recipient, MessageID: id, NextAttemptMS: now.UnixMilli(), CreateTime: m.CreateTime}
		if email != "" {
			d := base
			d.ID, d.Channel, d.Target = id+"-email", store.ChannelEmail, email
			if err := store.Enqueue(ctx, tx, d); err != nil {
				return err
			}
		}
		d := base
		d.ID, d.Channel, d.Target, d.WebhookID = id+"-hook", store.ChannelWebhook, "recipients/x/webhooks/"+hook.ID, hook.ID
		return store.Enqueue(ctx, tx, d)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func deliveries(t *testing.T, st *store.Store, recipient, id string) map[string]store.Delivery {
	got, err := st.DeliveriesOf(context.Background(), recipient, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Delivery{}
	for _, d := range got[id] {
		out[d.Channel] = d
	}
	return out
}

// runUntil runs the dispatcher until cond holds (tries are cheap: the
// back-off is milliseconds).
func runUntil(t *testing.T, d *Dispatcher, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, what, func() bool {
		if cond() {
			return true
		}
		if _, err := d.RunOnce(context.Background()); err != nil {
			t.Log(err)
		}
		return false
	})
}

// TestDownAndBack: email to an SMTP server and a webhook that are down are
// retried with back-off, and delivered once they are back; a delivered one
// is never sent again.
func TestDownAndBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := open(t, dsn)
		box := &mailbox{}
		mailSrv := smtpTarget(t, box)
		hookSrv, calls := webhookTarget(t)
		secret := NewSecret()
		hook := store.Webhook{Recipient: "lansstyrelse-01", ID: "h1", URL: "http://" + hookSrv.addr + "/hook", Secret: secret, CreateTime: time.Now().UTC().Format(time.RFC3339Nano)}
		createWebhook(t, st, hook)
		d := New(st, SMTPMailer{Addr: mailSrv.addr, From: "tia@example.org", Timeout: 2 * time.Second}, NewWebhookSender(2*time.Second, allow(t, hookSrv.addr)),
			func(m store.Message) ([]byte, error) { return []byte(`{"title":"` + m.Title + `"}`), nil },
			Config{MaxAttempts: 100, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond}, slog.Default())

		mailSrv.down()
		hookSrv.down()
		queue(t, st, "m1", "kansli@lansstyrelsen.example", hook)
		runUntil(t, d, "three failed tries each", func() bool {
			ds := deliveries(t, st, "lansstyrelse-01", "m1")
			return ds["email"].Attempts >= 3 && ds["webhook"].Attempts >= 3
		})
		for ch, dl := range deliveries(t, st, "lansstyrelse-01", "m1") {
			// The subscriber learns that it failed, not what answered.
			if dl.State != store.StatePending || dl.LastError != "failed" {
				t.Fatalf("%s while down: %+v", ch, dl)
			}
		}

		mailSrv.up()
		hookSrv.up()
		runUntil(t, d, "delivery", func() bool {
			ds := deliveries(t, st, "lansstyrelse-01", "m1")
			return ds["email"].State == store.StateDelivered && ds["webhook"].State == store.StateDelivered
		})
		mail := box.received()
		if len(mail) != 1 || !strings.HasPrefix(mail[0], "kansli@lansstyrelsen.example\n") || !strings.Contains(mail[0], "Subject: =?UTF-8?q?Beslut_om_resv=C3=A4g?=") ||
			!strings.Contains(mail[0], "Resor ers") {
			t.Fatalf("mailbox = %q", mail)
		}
		call := <-calls
		// A receiver checks the call with a Standard Webhooks library.
		verifier, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifier.Verify(call.body, call.header); err != nil {
			t.Fatalf("signature: %v (%v)", err, call.header)
		}
		other, err := standardwebhooks.NewWebhook(NewSecret())
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Verify(call.body, call.header); err == nil {
			t.Fatal("signature verifies with another secret")
		}
		if call.header.Get("webhook-id") != "m1-hook" || string(call.body) != `{"title":"Beslut om resväg"}` {
			t.Fatalf("webhook call %v %s", call.header, call.body)
		}
		// Nothing is due any more: nothing is sent twice.
		if n, err := d.RunOnce(ctx); n != 0 || err != nil {
			t.Fatalf("RunOnce after delivery = %d, %v", n, err)
		}
		if len(box.received()) != 1 || len(calls) != 0 {
			t.Fatal("delivered twice")
		}
	})
}

// TestDeadLetterAndReplay: after the configured number of tries a delivery
// is dead-lettered; replayed, it is delivered.
func TestDeadLetterAndReplay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := open(t, dsn)
		hookSrv, calls := webhookTarget(t)
		hookSrv.down()
		hook := store.Webhook{Recipient: "organiser-8020038884", ID: "h2", URL: "http://" + hookSrv.addr + "/", Secret: NewSecret(), CreateTime: time.Now().UTC().Format(time.RFC3339Nano)}
		createWebhook(t, st, hook)
		d := New(st, nil, NewWebhookSender(time.Second, allow(t, hookSrv.addr)), func(store.Message) ([]byte, error) { return []byte("{}"), nil },
			Config{MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond}, slog.Default())
		queue(t, st, "m2", "", hook)
		runUntil(t, d, "dead letter", func() bool {
			return deliveries(t, st, hook.Recipient, "m2")["webhook"].State == store.StateDeadLettered
		})
		if got := deliveries(t, st, hook.Recipient, "m2")["webhook"]; got.Attempts != 3 {
			t.Fatalf("dead-lettered after %d tries, want 3", got.Attempts)
		}
		page := mustPage(t)
		dead, err := st.DeadLetters(ctx, hook.Recipient, page)
		if err != nil || len(dead) != 1 || dead[0].ID != "m2-hook" {
			t.Fatalf("dead letters = %v, %v", dead, err)
		}
		if _, err := store.Replay(ctx, st.DB(), hook.Recipient, "m2", "m2-email", time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("replay of nothing: %v", err)
		}
		hookSrv.up()
		replayed, err := store.Replay(ctx, st.DB(), hook.Recipient, "m2", "m2-hook", time.Now())
		if err != nil || replayed.State != store.StatePending || replayed.Attempts != 0 {
			t.Fatalf("replay = %+v, %v", replayed, err)
		}
		runUntil(t, d, "replayed delivery", func() bool {
			return deliveries(t, st, hook.Recipient, "m2")["webhook"].State == store.StateDelivered
		})
		if _, err := store.Replay(ctx, st.DB(), hook.Recipient, "m2", "m2-hook", time.Now()); !errors.Is(err, store.ErrNotDeadLettered) {
			t.Fatalf("replay of a delivered one: %v", err)
		}
		if len(calls) != 1 {
			t.Fatalf("%d webhook calls, want 1", len(calls))
		}
	})
}

func TestBackoff(t *testing.T) {
	c := Config{BackoffBase: time.Second, BackoffMax: 10 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := c.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

// TestClaimIsExclusive: dispatchers claiming at the same time (replicas)
// never take the same delivery.
func TestClaimIsExclusive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := open(t, dsn)
		hook := store.Webhook{Recipient: "lansstyrelse-01", ID: "h", URL: "https://example.org/", Secret: "s", CreateTime: time.Now().UTC().Format(time.RFC3339Nano)}
		for i := range 30 {
			queue(t, st, "m"+strings.Repeat("x", i), "a@example.org", hook)
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					jobs, err := st.Claim(ctx, time.Now(), 7, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(jobs) == 0 {
						return
					}
					mu.Lock()
					for _, j := range jobs {
						seen[j.ID]++
						if j.Message.Title == "" {
							t.Errorf("job %s without its message", j.ID)
						}
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 60 {
			t.Fatalf("%d deliveries claimed, want 60", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s claimed %d times", id, n)
			}
		}
	})
}

// TestEnqueueMany: a message's deliveries are written in one call, in
// statements of up to enqueueRows rows, each pending with its own fields.
func TestEnqueueMany(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := open(t, dsn)
		now := time.Now().UTC()
		m := store.Message{Recipient: "lansstyrelse-03", ID: "m1", Topic: "travel.route_decided", Title: "t", Body: "b",
			EventID: "ev-m1", EventType: "tia.travel.v1.RouteDecided", SubjectResource: "routes/r1", CreateTime: now.Format(time.RFC3339Nano)}
		const n = 1203 // more than two statements' worth
		var ds []store.Delivery
		for i := range n {
			ds = append(ds, store.Delivery{ID: fmt.Sprintf("d%04d", i), Recipient: m.Recipient, MessageID: m.ID, Channel: store.ChannelWebhook,
				Target: fmt.Sprintf("recipients/%s/webhooks/h%d", m.Recipient, i), WebhookID: fmt.Sprintf("h%d", i),
				NextAttemptMS: now.UnixMilli(), CreateTime: m.CreateTime})
		}
		err := db.InTx(ctx, st.DB(), func(tx *sqlx.Tx) error {
			if _, err := store.Deliver(ctx, tx, m); err != nil {
				return err
			}
			return store.Enqueue(ctx, tx, ds...)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.DeliveriesOf(ctx, m.Recipient, []string{m.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got[m.ID]) != n {
			t.Fatalf("%d deliveries stored, want %d", len(got[m.ID]), n)
		}
		byID := map[string]store.Delivery{}
		for _, d := range got[m.ID] {
			byID[d.ID] = d
		}
		for _, want := range ds {
			d := byID[want.ID]
			if d.State != store.StatePending || d.WebhookID != want.WebhookID || d.Target != want.Target || d.NextAttemptMS != want.NextAttemptMS {
				t.Fatalf("delivery %s stored as %+v, want pending with %+v", want.ID, d, want)
			}
		}
		if err := store.Enqueue(ctx, st.DB()); err != nil {
			t.Errorf("enqueueing nothing: %v", err)
		}
	})
}

// TestHandedDeliveries: deliveries written leased to the dispatcher (Lease)
// are not claimed by anyone; handed over (Hand) they are sent at once, each
// message's body encoded once, and recorded as delivered. A dispatcher
// with no room leases nothing: those deliveries are written due.
func TestHandedDeliveries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := open(t, dsn)
		tg, calls := webhookTarget(t)
		encodings := 0
		encode := func(m store.Message) ([]byte, error) { encodings++; return []byte(`{"title":"` + m.Title + `"}`), nil }
		d := New(st, nil, NewWebhookSender(time.Second, allow(t, tg.addr)), encode, Config{Concurrency: 2}, slog.New(slog.DiscardHandler))

		now := time.Now().UTC()
		due, leased := d.Lease(now, 3)
		if !leased || !due.Equal(now.Add(d.cfg.Lease)) {
			t.Fatalf("Lease of 3 = %v, %v; want leased until now + %v", due, leased, d.cfg.Lease)
		}
		m := store.Message{Recipient: "lansstyrelse-01", ID: "m1", Topic: "travel.route_decided", Title: "Beslut", Body: "b",
			EventID: "ev-m1", EventType: "tia.travel.v1.RouteDecided", SubjectResource: "routes/r1", CreateTime: now.Format(time.RFC3339Nano)}
		var jobs []store.Job
		for i := range 3 {
			w := store.Webhook{Recipient: m.Recipient, ID: fmt.Sprintf("h%d", i), URL: "http://" + tg.addr + "/", Secret: NewSecret(), CreateTime: m.CreateTime}
			createWebhook(t, st, w)
			jobs = append(jobs, store.Job{Message: m, Webhook: &w, Delivery: store.Delivery{
				ID: fmt.Sprintf("d%d", i), Recipient: m.Recipient, MessageID: m.ID, Channel: store.ChannelWebhook, State: store.StatePending,
				Target: "recipients/lansstyrelse-01/webhooks/" + w.ID, WebhookID: w.ID, NextAttemptMS: due.UnixMilli(), CreateTime: m.CreateTime,
			}})
		}
		err := db.InTx(ctx, st.DB(), func(tx *sqlx.Tx) error {
			if _, err := store.Deliver(ctx, tx, m); err != nil {
				return err
			}
			ds := make([]store.Delivery, len(jobs))
			for i, j := range jobs {
				ds[i] = j.Delivery
			}
			return store.Enqueue(ctx, tx, ds...)
		})
		if err != nil {
			t.Fatal(err)
		}
		if claimed, err := st.Claim(ctx, time.Now(), 10, time.Minute); err != nil || len(claimed) != 0 {
			t.Fatalf("claimed %d leased deliveries (%v), want none", len(claimed), err)
		}
		d.Hand(jobs...)
		n, err := d.RunOnce(ctx)
		if err != nil || n != 3 {
			t.Fatalf("RunOnce = %d, %v; want the 3 handed deliveries", n, err)
		}
		if len(calls) != 3 {
			t.Errorf("%d webhook calls, want 3", len(calls))
		}
		if encodings != 1 {
			t.Errorf("the message was encoded %d times, want once", encodings)
		}
		got, err := st.DeliveriesOf(ctx, m.Recipient, []string{m.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got[m.ID]) != 3 {
			t.Fatalf("%d deliveries stored, want 3", len(got[m.ID]))
		}
		for _, dl := range got[m.ID] {
			if dl.State != store.StateDelivered || dl.Attempts != 1 {
				t.Errorf("delivery %s is %s after %d attempts, want delivered after 1", dl.ID, dl.State, dl.Attempts)
			}
		}
		if n, err := d.RunOnce(ctx); err != nil || n != 0 {
			t.Errorf("a second round tried %d (%v), want nothing left", n, err)
		}

		// Full: a dispatcher holding handedMax rounds leases nothing more.
		full := make([]store.Job, handedMax*d.roundSize())
		d.Hand(full...)
		if due, leased := d.Lease(now, 1); leased || !due.Equal(now) {
			t.Errorf("Lease when full = %v, %v; want due now, not leased", due, leased)
		}
	})
}
