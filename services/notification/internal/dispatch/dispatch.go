// Package dispatch sends the deliveries that the notification service
// writes next to each inbox message: email over SMTP and signed webhooks.
// A delivery is tried until it succeeds; a failed try is retried after an
// exponentially growing delay, and after the configured number of tries the
// delivery is dead-lettered, from where the recipient can replay it. The
// deliveries live in the database, so a restart loses none of them.
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/config"
)

// Config tunes retries and throughput.
type Config struct {
	// MaxAttempts is how many tries a delivery gets before it is
	// dead-lettered.
	MaxAttempts int
	// BackoffBase is the delay after the first failed try; it doubles with
	// each further try, up to BackoffMax.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// PollInterval is how often due deliveries are looked for when nothing
	// wakes the dispatcher.
	PollInterval time.Duration
	// Concurrency bounds the sends in flight.
	Concurrency int
	// Lease is how long a claimed delivery is kept from other dispatchers;
	// longer than a send can take.
	Lease time.Duration
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	c.MaxAttempts = config.PositiveOr(c.MaxAttempts, 8)
	c.BackoffBase = config.PositiveOr(c.BackoffBase, 5*time.Second)
	c.BackoffMax = config.PositiveOr(c.BackoffMax, time.Hour)
	c.PollInterval = config.PositiveOr(c.PollInterval, 500*time.Millisecond)
	c.Concurrency = config.PositiveOr(c.Concurrency, 32)
	c.Lease = config.PositiveOr(c.Lease, 2*time.Minute)
	return c
}

// Backoff is the delay before try attempts+1, after attempts failed tries.
func (c Config) Backoff(attempts int) time.Duration {
	d := c.BackoffBase
	for i := 1; i < attempts && d < c.BackoffMax; i++ {
		d *= 2
	}
	return min(d, c.BackoffMax)
}

// Mailer sends one email.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string, headers map[string]string) error
}

// Dispatcher sends due deliveries.
type Dispatcher struct {
	store   *store.Store
	mail    Mailer
	hooks   *WebhookSender
	encode  func(store.Message) ([]byte, error)
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	wake    chan struct{}
	stopped chan struct{}

	// handed are deliveries this process wrote leased to itself and
	// committed (Lease, Hand), waiting to be sent without a claim.
	mu     sync.Mutex
	handed []store.Job
}

// handedMax bounds, in rounds of sends, the deliveries waiting in handed;
// beyond it new deliveries are written due, for a claim.
const handedMax = 4

// New returns a dispatcher; mail may be nil when no SMTP server is
// configured (email deliveries then fail and are retried). encode turns a
// message into a webhook body.
func New(st *store.Store, mail Mailer, hooks *WebhookSender, encode func(store.Message) ([]byte, error), cfg Config, log *slog.Logger) *Dispatcher {
	return &Dispatcher{
		store: st, mail: mail, hooks: hooks, encode: encode, cfg: cfg.WithDefaults(), log: log,
		now: time.Now, wake: make(chan struct{}, 1),
	}
}

// Lease returns when deliveries about to be written, n of them, are next
// due. If this dispatcher has room for them it is now plus its lease
// (leased): they are written already claimed by it, so no dispatcher claims
// them before the lease ends, and the writer hands them over once they are
// committed (Hand), saving the claim's round trip to the database. If it
// has no room, or the deliveries are never handed over (the process
// stopped), they are sent when due as any other. Otherwise it is now.
func (d *Dispatcher) Lease(now time.Time, n int) (due time.Time, leased bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.handed)+n > handedMax*d.roundSize() {
		return now, false
	}
	return now.Add(d.cfg.Lease), true
}

// Hand gives the dispatcher committed deliveries written leased to it
// (Lease), to send at once.
func (d *Dispatcher) Hand(jobs ...store.Job) {
	if len(jobs) == 0 {
		return
	}
	d.mu.Lock()
	d.handed = append(d.handed, jobs...)
	d.mu.Unlock()
	d.Wake()
}

// takeHanded returns up to n handed deliveries, the oldest first.
func (d *Dispatcher) takeHanded(n int) []store.Job {
	d.mu.Lock()
	defer d.mu.Unlock()
	n = min(n, len(d.handed))
	jobs := d.handed[:n:n]
	d.handed = d.handed[n:]
	return jobs
}

// roundSize is how many deliveries one round sends at the most.
func (d *Dispatcher) roundSize() int { return d.cfg.Concurrency * 4 }

// Wake asks for a look at due deliveries now (after a commit that wrote
// some).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx is done. A round's successes are
// recorded while the next round sends (one round's at a time).
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.PollInterval)
	defer t.Stop()
	var recording sync.WaitGroup
	defer recording.Wait()
	for {
		n, record, err := d.round(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "dispatch", "err", err)
		}
		recording.Wait()
		recording.Go(func() {
			if err := record(); err != nil {
				d.log.WarnContext(ctx, "dispatch: recording deliveries", "err", err)
			}
		})
		if n > 0 && err == nil {
			continue // there may be more due at once
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.wake:
		}
	}
}

// RunOnce takes the deliveries handed to it (Hand) or, if there are none,
// claims those due now, sends them in parallel and records the outcome; it
// returns how many it tried.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	n, record, err := d.round(ctx)
	return n, errors.Join(err, record())
}

// round is RunOnce but for recording the successes, which record does
// (failures are recorded as they happen).
func (d *Dispatcher) round(ctx context.Context) (n int, record func() error, err error) {
	jobs := d.takeHanded(d.roundSize())
	if len(jobs) == 0 {
		jobs, err = d.store.Claim(ctx, d.now(), d.roundSize(), d.cfg.Lease)
	}
	if err != nil && len(jobs) == 0 {
		return 0, func() error { return nil }, err
	}
	// A message goes to each of its recipient's webhooks with the same
	// body: it is encoded once per round.
	bodies := map[string]encoded{}
	for _, j := range jobs {
		if _, ok := bodies[j.MessageID]; !ok && j.Channel == store.ChannelWebhook {
			body, err := d.encode(j.Message)
			bodies[j.MessageID] = encoded{body, err}
		}
	}
	sem := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	delivered := map[string]int{}
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := d.try(ctx, j, bodies[j.MessageID])
			mu.Lock()
			defer mu.Unlock()
			if ok {
				delivered[j.ID] = j.Attempts + 1
			}
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	record = func() error {
		if len(delivered) == 0 {
			return nil
		}
		// Successes are recorded together, even if ctx ended meanwhile.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return d.store.Delivered(rctx, delivered, d.now())
	}
	return len(jobs), record, errors.Join(append(errs, err)...)
}

// try sends one delivery once; a failure is recorded at once, a success is
// reported (ok) for RunOnce to record with the others.
func (d *Dispatcher) try(ctx context.Context, j store.Job, body encoded) (ok bool, err error) {
	attempts := j.Attempts + 1
	sendErr := d.send(ctx, j, body)
	if sendErr == nil {
		return true, nil
	}
	now := d.now()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var next time.Time
	if attempts < d.cfg.MaxAttempts && !permanent(sendErr) {
		next = now.Add(d.cfg.Backoff(attempts))
	} else {
		// A webhook's cause may name the target's answer: it goes to the
		// operator's log, never to the subscriber (summary). An email's
		// cause may carry the address, which may be a person's: only the
		// summary is logged.
		cause := summary(sendErr)
		if j.Channel == store.ChannelWebhook {
			cause = sendErr.Error()
		}
		d.log.WarnContext(ctx, "delivery dead-lettered", "delivery", j.ID, "channel", j.Channel, "attempts", attempts, "err", cause)
	}
	return false, d.store.Failed(rctx, j.ID, attempts, summary(sendErr), next, now)
}

// encoded is a message's webhook body, or why it has none.
type encoded struct {
	body []byte
	err  error
}

func (d *Dispatcher) send(ctx context.Context, j store.Job, body encoded) error {
	switch j.Channel {
	case store.ChannelEmail:
		if d.mail == nil {
			return &Failure{Summary: "failed: no SMTP server is configured", Cause: errors.New("TIA_SMTP_ADDR is empty")}
		}
		headers := map[string]string{"X-Tia-Message": "recipients/" + j.Recipient + "/messages/" + j.MessageID, "X-Tia-Topic": j.Message.Topic}
		return d.mail.Send(ctx, j.Target, j.Message.Title, j.Message.Body, headers)
	case store.ChannelWebhook:
		if j.Webhook == nil {
			return &Failure{Summary: "failed: the webhook was deleted", Permanent: true, Cause: errors.New("webhook deleted")}
		}
		if body.err != nil {
			return &Failure{Summary: "failed", Permanent: true, Cause: body.err}
		}
		return d.hooks.Send(ctx, *j.Webhook, j.ID, body.body)
	}
	return &Failure{Summary: "failed", Permanent: true, Cause: errors.New("unknown channel " + j.Channel)}
}
