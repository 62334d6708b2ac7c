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
}

// New returns a dispatcher; mail may be nil when no SMTP server is
// configured (email deliveries then fail and are retried). encode turns a
// message into a webhook body.
func New(st *store.Store, mail Mailer, hooks *WebhookSender, encode func(store.Message) ([]byte, error), cfg Config, log *slog.Logger) *Dispatcher {
	return &Dispatcher{
		store: st, mail: mail, hooks: hooks, encode: encode, cfg: cfg.WithDefaults(), log: log,
		now: time.Now, wake: make(chan struct{}, 1),
	}
}

// Wake asks for a look at due deliveries now (after a commit that wrote
// some).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx is done.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.PollInterval)
	defer t.Stop()
	for {
		n, err := d.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "dispatch", "err", err)
		}
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

// RunOnce claims the deliveries due now, sends them in parallel and records
// the outcome; it returns how many it tried.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	jobs, err := d.store.Claim(ctx, d.now(), d.cfg.Concurrency*4, d.cfg.Lease)
	if err != nil && len(jobs) == 0 {
		return 0, err
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
			ok, err := d.try(ctx, j)
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
	if len(delivered) > 0 {
		// Successes are recorded together, even if ctx ended meanwhile.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		errs = append(errs, d.store.Delivered(rctx, delivered, d.now()))
		cancel()
	}
	return len(jobs), errors.Join(append(errs, err)...)
}

// try sends one delivery once; a failure is recorded at once, a success is
// reported (ok) for RunOnce to record with the others.
func (d *Dispatcher) try(ctx context.Context, j store.Job) (ok bool, err error) {
	attempts := j.Attempts + 1
	sendErr := d.send(ctx, j)
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

func (d *Dispatcher) send(ctx context.Context, j store.Job) error {
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
		body, err := d.encode(j.Message)
		if err != nil {
			return &Failure{Summary: "failed", Permanent: true, Cause: err}
		}
		return d.hooks.Send(ctx, *j.Webhook, j.ID, body)
	}
	return &Failure{Summary: "failed", Permanent: true, Cause: errors.New("unknown channel " + j.Channel)}
}
