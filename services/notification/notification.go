// Package notification makes sure that every fact one actor owes another
// reaches them. It consumes the other services' events and, by the rules in
// internal/routing, puts one message per recipient per event in the
// recipients' inboxes; in the same transaction it queues the email and
// webhook deliveries the recipient chose for the topic, which the dispatcher
// (internal/dispatch) sends with retries until they succeed or are
// dead-lettered. It also keeps the regional forums (members, meetings, an
// iCalendar feed per län), the contact directory per län, and a public Atom
// feed per kommun of activities newly open to asylum seekers.
package notification

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/notification/internal/dispatch"
	"github.com/tia-platform/tia/services/notification/internal/domain"
	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/uow"
)

// Config is the service's own configuration: flags of the binary, each also
// read from the TIA_* variable of the same name (see config.Parse); the
// embedded default reads the variables alone.
type Config struct {
	// Development accepts plain-http webhook URLs (TIA_DEVELOPMENT=true).
	Development bool
	// SMTPAddr is the SMTP server, host:port (TIA_SMTP_ADDR); email
	// deliveries fail (and are retried) while it is empty.
	SMTPAddr string
	// SMTPFrom is the sender address (TIA_SMTP_FROM).
	SMTPFrom string
	// SMTPUsername and SMTPPassword authenticate (TIA_SMTP_USERNAME,
	// TIA_SMTP_PASSWORD).
	SMTPUsername, SMTPPassword string
	// Delivery tunes retries: TIA_DELIVERY_MAX_ATTEMPTS,
	// TIA_DELIVERY_BACKOFF, TIA_DELIVERY_BACKOFF_MAX,
	// TIA_DELIVERY_POLL_INTERVAL, TIA_DELIVERY_CONCURRENCY.
	Delivery dispatch.Config
	// WebhookTimeout bounds one webhook call (TIA_WEBHOOK_TIMEOUT).
	WebhookTimeout time.Duration
	// WebhookAllowHosts are the "ip:port" addresses of development webhook
	// receivers that may be reached although they are loopback or private
	// (TIA_WEBHOOK_ALLOW_HOSTS, comma-separated); every other webhook must
	// be a public address.
	WebhookAllowHosts string
	// InboxRetention is how long messages to asylum seekers are kept
	// (TIA_INBOX_RETENTION); DeliveryRetention how long delivered and
	// dead-lettered deliveries are (TIA_DELIVERY_RETENTION);
	// AuditRetention how long the audit trail is (TIA_AUDIT_RETENTION).
	// RetentionInterval is how often the job that deletes what is older
	// runs, once across replicas (TIA_RETENTION_INTERVAL).
	InboxRetention, DeliveryRetention, AuditRetention, RetentionInterval time.Duration
}

// Register declares the settings' flags on fs.
func (c *Config) Register(fs *flag.FlagSet) {
	def := dispatch.Config{}.WithDefaults()
	config.Bool(fs, &c.Development, "development", false, "accept plain-http webhook URLs (loopback receivers in development)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", "", "SMTP server host:port for email notifications (STARTTLS when offered); email deliveries wait while it is empty")
	fs.StringVar(&c.SMTPFrom, "smtp-from", "", "sender address of notification emails")
	fs.StringVar(&c.SMTPUsername, "smtp-username", "", "SMTP user name")
	fs.StringVar(&c.SMTPPassword, "smtp-password", "", "SMTP password (set it by the environment variable, from a secret)")
	config.Int(fs, &c.Delivery.MaxAttempts, "delivery-max-attempts", def.MaxAttempts, "tries of an email or webhook delivery before it is dead-lettered")
	config.Duration(fs, &c.Delivery.BackoffBase, "delivery-backoff", def.BackoffBase, "delay after a delivery's first failed try, doubling per try")
	config.Duration(fs, &c.Delivery.BackoffMax, "delivery-backoff-max", def.BackoffMax, "longest delay between tries of a delivery")
	config.Duration(fs, &c.Delivery.PollInterval, "delivery-poll-interval", def.PollInterval, "how often due deliveries are looked for")
	config.Int(fs, &c.Delivery.Concurrency, "delivery-concurrency", def.Concurrency, "deliveries sent at once")
	config.Duration(fs, &c.WebhookTimeout, "webhook-timeout", defaultWebhookTimeout, "bound of one webhook call")
	fs.StringVar(&c.WebhookAllowHosts, "webhook-allow-hosts", "", "comma-separated ip:port addresses of development webhook receivers that may be loopback or private (every other webhook must be public)")
	config.Duration(fs, &c.InboxRetention, "inbox-retention", defaultRetention.inbox, "how long messages to asylum seekers are kept before the retention job deletes them")
	config.Duration(fs, &c.DeliveryRetention, "delivery-retention", defaultRetention.deliveries, "how long delivered and dead-lettered email and webhook deliveries are kept")
	config.Duration(fs, &c.AuditRetention, "audit-retention", defaultRetention.audit, "how long the audit trail of asylum seekers' inboxes is kept")
	config.Duration(fs, &c.RetentionInterval, "retention-interval", defaultRetention.interval, "how often the retention job runs (once across replicas)")
}

// Validate names the variable of the first wrong setting.
func (c *Config) Validate() error {
	return errors.Join(
		config.Positive("delivery-max-attempts", c.Delivery.MaxAttempts),
		config.Positive("delivery-backoff", c.Delivery.BackoffBase),
		config.Positive("delivery-backoff-max", c.Delivery.BackoffMax),
		config.Positive("delivery-poll-interval", c.Delivery.PollInterval),
		config.Positive("delivery-concurrency", c.Delivery.Concurrency),
		config.Positive("webhook-timeout", c.WebhookTimeout),
		config.Positive("inbox-retention", c.InboxRetention),
		config.Positive("delivery-retention", c.DeliveryRetention),
		config.Positive("audit-retention", c.AuditRetention),
		config.Positive("retention-interval", c.RetentionInterval),
		c.checkAllowHosts(),
	)
}

// checkAllowHosts names the variable of a malformed allow-list.
func (c *Config) checkAllowHosts() error {
	if _, err := dispatch.ParseAllowList(c.WebhookAllowHosts); err != nil {
		return fmt.Errorf("%s: %w", config.EnvVar("webhook-allow-hosts"), err)
	}
	return nil
}

// defaultWebhookTimeout bounds one webhook call unless configured.
const defaultWebhookTimeout = 10 * time.Second

// ConfigFromEnv reads Config from the TIA_* variables alone.
func ConfigFromEnv() (Config, error) {
	var c Config
	err := config.FromEnv(&c)
	return c, err
}

// Component describes the service to a host; it reads its Config from the
// environment when the host starts it.
var Component = NewComponent(nil)

// NewComponent describes the service with a given configuration (nil: from
// the environment).
func NewComponent(cfg *Config) app.Component {
	return app.Component{
		Name:       "notification",
		Migrations: store.Migrations,
		Config:     func() config.Settings { return &Config{} },
		Errors:     errorTable,
		New: func(d app.Deps) (app.Service, error) {
			c := cfg
			if c == nil {
				c, _ = d.Config.(*Config)
			}
			if c == nil {
				fromEnv, err := ConfigFromEnv()
				if err != nil {
					return nil, err
				}
				c = &fromEnv
			}
			return newService(d, *c)
		},
	}
}

// errorTable maps the service's own refusals to status codes (the shared
// kinds of apierr — not found, already exists, denied — map themselves).
var errorTable = []apierr.Rule{
	{Err: domain.ErrNotDeadLettered, Code: codes.FailedPrecondition, Reason: "NOT_DEAD_LETTERED"},
	{Err: domain.ErrNoProposals, Code: codes.FailedPrecondition, Reason: "LEVEL_TAKES_NO_PROPOSALS"},
	{Err: domain.ErrFromRegistry, Code: codes.FailedPrecondition, Reason: "CONTACT_KEPT_IN_REGISTRY"},
}

// Service implements tia.notification.v1.NotificationService.
type Service struct {
	notificationv1.UnimplementedNotificationServiceServer
	store     *store.Store
	units     *uow.Runner
	audit     *audit.Trail
	people    routing.Keyed
	log       *slog.Logger
	cfg       Config
	guard     *dispatch.Guard
	dispatch  *dispatch.Dispatcher
	retention *retention
	now       func() time.Time
	subs      subscriptionCache
}

// subscriptionTTL is how long a recipient's choice for a topic is reused
// without asking the database again: the lookup would otherwise be a round
// trip per message. A change made through this process applies at once; one
// made through another replica within this time.
const subscriptionTTL = time.Second

// subscriptionCache keeps recently read subscriptions.
type subscriptionCache struct {
	mu      sync.Mutex
	entries map[[2]string]cachedSubscription
}

type cachedSubscription struct {
	sub     store.Subscription
	expires time.Time
}

func (c *subscriptionCache) get(recipient, topic string, now time.Time) (store.Subscription, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[[2]string{recipient, topic}]
	if !ok || now.After(e.expires) {
		return store.Subscription{}, false
	}
	return e.sub, true
}

func (c *subscriptionCache) put(sub store.Subscription, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 100_000 {
		c.entries = map[[2]string]cachedSubscription{}
	}
	c.entries[[2]string{sub.Recipient, sub.Topic}] = cachedSubscription{sub: sub, expires: now.Add(subscriptionTTL)}
}

func (c *subscriptionCache) forget(recipient, topic string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, [2]string{recipient, topic})
}

func newService(d app.Deps, cfg Config) (*Service, error) {
	if d.Units == nil || d.Audit == nil || d.Pseudonyms == nil {
		return nil, errors.New("notification: the host gives no unit-of-work runner, audit trail or pseudonym key")
	}
	allow, err := dispatch.ParseAllowList(cfg.WebhookAllowHosts)
	if err != nil {
		return nil, fmt.Errorf("configuration: %s: %w", config.EnvVar("webhook-allow-hosts"), err)
	}
	now := d.Clock.Now
	s := &Service{
		store: store.New(d.DB), units: d.Units, audit: d.Audit, people: routing.Keyed{Keys: d.Pseudonyms},
		log: d.Logger, cfg: cfg, guard: dispatch.NewGuard(allow), now: func() time.Time { return now().UTC() },
	}
	var mailer dispatch.Mailer
	if cfg.SMTPAddr != "" {
		from := cfg.SMTPFrom
		if from == "" {
			from = "tia@localhost"
		}
		mailer = dispatch.SMTPMailer{Addr: cfg.SMTPAddr, From: from, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword}
	}
	timeout := cfg.WebhookTimeout
	if timeout <= 0 {
		timeout = defaultWebhookTimeout
	}
	s.dispatch = dispatch.New(s.store, mailer, dispatch.NewWebhookSender(timeout, s.guard), encodeWebhook, cfg.Delivery, d.Logger)
	s.retention = newRetention(s, cfg)
	return s, nil
}

// encodeWebhook is the body of a webhook call: the message as the REST API
// shows it.
func encodeWebhook(m store.Message) ([]byte, error) {
	return protojson.Marshal(toProto(m, nil))
}

// Register adds the gRPC API.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	notificationv1.RegisterNotificationServiceServer(r, s)
}

// Subscriptions read every producer's stream; the routing table decides
// what each event means.
func (s *Service) Subscriptions() []app.Subscription {
	// Events are independent of each other here (one message per recipient
	// per event, whatever the order), so they are applied in parallel. Each
	// applier commits the events waiting for it together (up to batch):
	// at 1,000 events/s on 2 cores, 8 appliers with batches keep up better
	// than 20 appliers with a transaction each (notification-bench), though
	// not always: each event's statements are round trips of their own.
	const concurrency, batch = 8, 16
	return []app.Subscription{
		{Producer: "activity", Handler: s.handle, Concurrency: concurrency, Batch: batch},
		{Producer: "statistics", Handler: s.handle, Concurrency: concurrency, Batch: batch},
		{Producer: "travel", Handler: s.handle, Concurrency: concurrency, Batch: batch},
	}
}

// Run sends the queued email and webhook deliveries and runs the retention
// job (app.Runner).
func (s *Service) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.retention.run(ctx)
	}()
	err := s.dispatch.Run(ctx)
	<-done
	return err
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
	if err := s.noteReadModels(ctx, tx, msg); err != nil {
		return err
	}
	routed, err := rule.Route(ctx, msg, store.Directory{Q: tx, People: s.people})
	if err != nil {
		return err
	}
	for _, m := range routed {
		// In the consumer's transaction the flush of the messages hands
		// their deliveries over, or wakes the dispatcher, after the commit.
		if _, err := s.deliver(ctx, tx, rule.Topic, ev.ID, ev.Type, m); err != nil {
			return err
		}
	}
	return nil
}

// noteReadModels keeps this service's own copy of what it needs later:
// activities for the public feed, organisers active per län for routing,
// organisers' participant contacts for the contact directory.
func (s *Service) noteReadModels(ctx context.Context, tx *sqlx.Tx, msg any) error {
	switch ev := msg.(type) {
	case *activityv1.OrganiserRegistered:
		o := ev.GetOrganiser()
		for _, lan := range routing.OrganiserLans(o) {
			if err := store.NoteOrganiser(ctx, tx, lan, routing.Organiser(o.GetOrgNumber())); err != nil {
				return err
			}
		}
		// Until the registry's OrganiserContactsChanged arrives (it is
		// published with the registration too), the registration's own
		// contacts fill the directory.
		contacts, version := participantContactsOfOrganiser(o)
		_, err := store.ReplaceRegistryContacts(ctx, tx, o.GetOrgNumber(), version, contacts)
		return err
	case *activityv1.OrganiserContactsChanged:
		org, ok := organiserNumber(ev.GetOrganiser())
		if !ok {
			return nil // not a name the registry makes: nothing to note
		}
		contacts, version := participantContactsOfEvent(ev)
		_, err := store.ReplaceRegistryContacts(ctx, tx, org, version, contacts)
		return err
	case *activityv1.ActivityRegistered:
		a := ev.GetActivity()
		var focus []string
		for _, f := range a.GetFocus() {
			focus = append(focus, f.String())
		}
		publish := s.now()
		if t := a.GetCreateTime(); t != nil {
			publish = t.AsTime().UTC()
		}
		noted := store.FeedActivity{
			Name: a.GetName(), KommunCode: a.GetKommunCode(), LanCode: a.GetLanCode(), Title: a.GetTitle(),
			Focus: strings.Join(focus, ","), Capacity: a.GetCapacity(), StartDate: a.GetStartDate(), EndDate: a.GetEndDate(),
			PublishTime: timeText(publish), Organiser: routing.OrganiserOf(a.GetName()),
		}
		// In the event consumer's transaction, the activities of a batch
		// are written together before the commit. Only the feed and the
		// routing of travel events (another stream, so another
		// transaction) read them.
		if batch, ok := events.Deferred(ctx, feedKey{}, flushFeed); ok {
			*batch = append(*batch, noted)
			return nil
		}
		return store.NoteActivities(ctx, tx, noted)
	}
	return nil
}

// feedKey keeps the activities of an event consumer's transaction until it
// writes them (events.Deferred).
type feedKey struct{}

func flushFeed(ctx context.Context, tx *sqlx.Tx, batch *[]store.FeedActivity) error {
	return store.NoteActivities(ctx, tx, *batch...)
}

// deliver writes one message, in the recipient's language, to the
// recipient's inbox within tx, with a delivery for each further channel the
// recipient chose for topic. Nothing is written if the recipient already
// has a message for eventID. A message to a person is recorded in the audit
// trail. queued says whether deliveries were written.
//
// In the event consumer's transaction the message is written with the
// others of the batch, before the commit (writeMessages, through
// events.Deferred), and queued is false: the flush wakes the dispatcher.
func (s *Service) deliver(ctx context.Context, tx *sqlx.Tx, topic, eventID, eventType string, m routing.Message) (queued bool, err error) {
	sub, ok := s.subs.get(m.Recipient, topic, s.now())
	if !ok {
		if sub, _, err = store.GetSubscription(ctx, tx, m.Recipient, topic); err != nil {
			return false, err
		}
		s.subs.put(sub, s.now())
	}
	title, body, err := routing.Render(sub.Language, topic, m.Data)
	if err != nil {
		return false, err
	}
	now := s.now()
	p := pendingMessage{sub: sub, at: now, msg: store.Message{
		Recipient: m.Recipient, ID: uuid.Must(uuid.NewV7()).String(), Topic: topic, Title: title, Body: body,
		EventID: eventID, EventType: eventType, SubjectResource: m.SubjectResource,
		CreateTime: timeText(now), Language: sub.Language, Lan: routing.LanOf(m.Recipient),
	}}
	if m.Dossier != "" {
		entry := s.audit.Entry(ctx, audit.OpCreate, messagePattern.Format(p.msg.Recipient, p.msg.ID), m.Dossier)
		p.audit = &entry
	}
	if batch, ok := events.Deferred(ctx, inboxKey{}, s.flushMessages); ok {
		*batch = append(*batch, p)
		return false, nil
	}
	return s.writeMessages(ctx, tx, []pendingMessage{p})
}

// inboxKey keeps the messages of an event consumer's transaction until it
// writes them (events.Deferred).
type inboxKey struct{}

// pendingMessage is a message deliver made, with what writing it takes:
// its audit entry (a message to a person) and the recipient's channels.
type pendingMessage struct {
	msg   store.Message
	at    time.Time // when it was made: its deliveries are due then
	audit *audit.Entry
	sub   store.Subscription
}

// flushMessages writes an event consumer transaction's messages and wakes
// the dispatcher after the commit if deliveries were queued.
func (s *Service) flushMessages(ctx context.Context, tx *sqlx.Tx, batch *[]pendingMessage) error {
	queued, err := s.writeMessages(ctx, tx, *batch)
	if err == nil && queued {
		events.AfterCommit(ctx, s.dispatch.Wake)
	}
	return err
}

// writeMessages puts messages in their inboxes within tx, in one statement
// (per 500), and for each that was not there already its audit entry and
// its deliveries. queued says whether deliveries were written.
//
// In the event consumer's transaction the deliveries are written leased to
// this process's dispatcher when it has room, and handed to it after the
// commit, so it sends them without claiming them first (dispatch.Lease).
func (s *Service) writeMessages(ctx context.Context, tx *sqlx.Tx, batch []pendingMessage) (queued bool, err error) {
	msgs := make([]store.Message, len(batch))
	for i, p := range batch {
		msgs[i] = p.msg
	}
	inserted, err := store.DeliverAll(ctx, tx, msgs)
	if err != nil {
		return false, err
	}
	var (
		entries []audit.Entry
		jobs    []store.Job
		hooks   = map[string][]store.Webhook{} // by recipient, read once per batch
	)
	for _, p := range batch {
		if !inserted[p.msg.ID] {
			continue
		}
		if p.audit != nil {
			entries = append(entries, *p.audit)
		}
		job := store.Job{Message: p.msg, Delivery: store.Delivery{
			Recipient: p.msg.Recipient, MessageID: p.msg.ID, State: store.StatePending, NextAttemptMS: p.at.UnixMilli(), CreateTime: p.msg.CreateTime,
		}}
		if p.sub.HasChannel(store.ChannelEmail) && p.sub.EmailAddress != "" {
			j := job
			j.ID, j.Channel, j.Target = uuid.Must(uuid.NewV7()).String(), store.ChannelEmail, p.sub.EmailAddress
			jobs = append(jobs, j)
		}
		if p.sub.HasChannel(store.ChannelWebhook) {
			list, ok := hooks[p.msg.Recipient]
			if !ok {
				if list, err = store.Webhooks(ctx, tx, p.msg.Recipient, 1000, 0); err != nil {
					return false, err
				}
				hooks[p.msg.Recipient] = list
			}
			for i, w := range list {
				j := job
				j.ID, j.Channel, j.Target, j.WebhookID = uuid.Must(uuid.NewV7()).String(), store.ChannelWebhook, webhookPattern.Format(w.Recipient, w.ID), w.ID
				j.Webhook = &list[i]
				jobs = append(jobs, j)
			}
		}
	}
	if err := s.audit.Append(ctx, tx, entries...); err != nil {
		return false, err
	}
	if len(jobs) == 0 {
		return false, nil
	}
	// Only the event consumer's transaction hands deliveries over after its
	// commit; other writers wake the dispatcher to claim them.
	handed := false
	if due, leased := s.dispatch.Lease(s.now(), len(jobs)); leased {
		handed = events.AfterCommit(ctx, func() { s.dispatch.Hand(jobs...) })
		if handed {
			for i := range jobs {
				jobs[i].NextAttemptMS = due.UnixMilli()
			}
		}
	}
	ds := make([]store.Delivery, len(jobs))
	for i, j := range jobs {
		ds[i] = j.Delivery
	}
	if err := store.Enqueue(ctx, tx, ds...); err != nil {
		return false, err
	}
	return !handed, nil
}
