package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/db"
)

// Consumer defaults.
const (
	// ackWait is how long JetStream waits for an ack before redelivering.
	ackWait = 30 * time.Second
	// handleTimeout bounds one handler run. It is shorter than ackWait so
	// a slow handler gives up (and its transaction rolls back) before
	// JetStream hands the message to someone else.
	handleTimeout = 25 * time.Second
	// defaultNakDelayMin and defaultNakDelayMax bound the redelivery delay
	// after a handler error; the delay doubles with each delivery.
	defaultNakDelayMin = time.Second
	defaultNakDelayMax = time.Minute
	// restartDelayMax caps the wait between attempts to (re)create the
	// stream, consumer and subscription while NATS is unavailable.
	restartDelayMax = 5 * time.Second
	// healthCheckTimeout bounds the consumer lookup made after the
	// subscription reported an error.
	healthCheckTimeout = 5 * time.Second
)

// markProcessedSQL claims events for a consumer, one row each (sqlx
// repeats the VALUES tuple for a slice), and returns only those not
// processed before. Both dialects support ON CONFLICT DO NOTHING RETURNING.
const markProcessedSQL = `INSERT INTO processed_events (consumer, event_id) VALUES (:consumer, :event_id)
	ON CONFLICT DO NOTHING RETURNING event_id`

// ackBackOff are the redelivery delays for messages that were neither acked
// nor naked (e.g. the process died mid-handler). JetStream uses the first
// value as the ack wait.
var ackBackOff = []time.Duration{ackWait, time.Minute, 2 * time.Minute, 5 * time.Minute}

// Handler applies one event within tx. The consumer records the event id in
// processed_events in the same transaction, so a redelivered event is
// acked without calling the handler again. Returning an error rolls tx back
// and schedules a redelivery.
type Handler func(ctx context.Context, tx *sqlx.Tx, ev Event) error

// Consumer is a durable JetStream pull consumer that applies events with a
// Handler, exactly once per event id and database.
//
// The JetStream consumer is durable (named after the Consumer), acks
// explicitly, waits 30s for an ack and redelivers without limit, with back-off.
// Run creates the stream (EnsureStream) and the consumer itself, so neither
// needs to exist when the service starts, and it recreates them and
// resubscribes if they disappear (for example when NATS restarts without its
// storage). Reconnects are handled by nats.go.
type Consumer struct {
	db       *sqlx.DB
	js       jetstream.JetStream
	name     string
	stream   Stream
	subjects []string
	handler  Handler

	nakDelayMin time.Duration
	nakDelayMax time.Duration
	concurrency int
	batch       int
	log         *slog.Logger
	tracer      trace.Tracer
	stats       consumerStats
}

// ConsumerOption configures a Consumer.
type ConsumerOption func(*Consumer)

// WithNakDelay sets the redelivery delay after a handler error: min after the
// first failure, doubling per delivery up to max (defaults 1s and 1m).
func WithNakDelay(minDelay, maxDelay time.Duration) ConsumerOption {
	return func(c *Consumer) {
		if minDelay > 0 && maxDelay >= minDelay {
			c.nakDelayMin, c.nakDelayMax = minDelay, maxDelay
		}
	}
}

// WithConcurrency lets up to n events be applied at once, each in its own
// transaction (default 1: one after the other, in stream order). Only for
// handlers whose events do not depend on each other's order; each event is
// still applied exactly once.
func WithConcurrency(n int) ConsumerOption {
	return func(c *Consumer) { c.concurrency = config.PositiveOr(n, c.concurrency) }
}

// WithBatch lets each of the concurrent appliers (see WithConcurrency) take
// up to n events that are already waiting and apply them in one transaction,
// one commit for all (default 1: a transaction per event). Each event is
// still recorded in processed_events and acked only after the commit. If
// the batch fails, it is rolled back and its events are applied one by one,
// so a failing event is redelivered alone and does not hold up the others.
// It has no effect without WithConcurrency above 1.
func WithBatch(n int) ConsumerOption {
	return func(c *Consumer) { c.batch = config.PositiveOr(n, c.batch) }
}

// WithConsumerLogger sets the consumer's logger (default slog.Default()).
func WithConsumerLogger(l *slog.Logger) ConsumerOption {
	return func(c *Consumer) {
		if l != nil {
			c.log = l
		}
	}
}

// NewConsumer returns a consumer named name (the JetStream durable name and
// the key in processed_events; it must be unique per service and purpose)
// that applies events from stream, optionally only those matching subjects,
// with h. Spans are recorded with the global tracer provider.
func NewConsumer(d *sqlx.DB, js jetstream.JetStream, name string, stream Stream, subjects []string, h Handler, opts ...ConsumerOption) *Consumer {
	c := &Consumer{
		db:          d,
		js:          js,
		name:        name,
		stream:      stream,
		subjects:    subjects,
		handler:     h,
		nakDelayMin: defaultNakDelayMin,
		nakDelayMax: defaultNakDelayMax,
		concurrency: 1,
		batch:       1,
		log:         slog.Default(),
		tracer:      otel.Tracer(instrumentationName),
	}
	for _, opt := range opts {
		opt(c)
	}
	c.log = c.log.With("component", "event-consumer", "consumer", name, "stream", stream.Name)
	return c
}

// Run consumes until ctx is done, then stops the subscription, waits for
// the event in progress (if any) and returns nil. Failures to reach NATS are
// logged and retried.
func (c *Consumer) Run(ctx context.Context) error {
	if unregister, err := c.registerConsumerMetrics(); err != nil {
		c.log.Warn("consumer metrics unavailable", "error", err)
	} else {
		defer func() { _ = unregister() }()
	}
	const initialDelay = 100 * time.Millisecond
	delay := initialDelay
	for {
		started := time.Now()
		err := c.consume(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > time.Minute {
			// It ran for a while, so this is a new outage, not a repeat.
			delay = initialDelay
		}
		if err != nil {
			c.log.Warn("consuming failed; retrying", "error", err, "retry_in", delay)
		} else {
			// The subscription ended or the consumer vanished.
			c.log.Info("subscription ended; resubscribing", "retry_in", delay)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, restartDelayMax)
	}
}

// consume sets up the stream, the durable consumer and a subscription, then
// serves it until ctx is done or the subscription cannot continue.
func (c *Consumer) consume(ctx context.Context) error {
	if err := EnsureStream(ctx, c.js, c.stream); err != nil {
		return err
	}
	cons, err := c.createConsumer(ctx)
	if err != nil {
		return err
	}

	// Messages are handled with a context that survives ctx, so shutting
	// down lets the event in progress commit instead of failing it.
	handleCtx := context.WithoutCancel(ctx)
	// Errors reported by the subscription trigger a check whether the
	// consumer still exists; buffered so reporting never blocks.
	check := make(chan struct{}, 1)
	// With concurrency above 1, the callback hands each message to a
	// goroutine, blocking while that many are in flight.
	slots := make(chan struct{}, c.concurrency)
	var inflight sync.WaitGroup
	defer inflight.Wait()
	// With batches, the callback queues messages for a fixed set of
	// appliers, each taking what is waiting, up to c.batch at a time.
	var queue chan jetstream.Msg
	stop := make(chan struct{})
	defer close(stop) // runs after the subscription stopped (below)
	if c.concurrency > 1 && c.batch > 1 {
		queue = make(chan jetstream.Msg, c.concurrency*c.batch)
		for range c.concurrency {
			inflight.Go(func() { c.applyQueued(handleCtx, queue, stop) })
		}
	}
	cc, err := cons.Consume(
		func(msg jetstream.Msg) {
			if meta, err := msg.Metadata(); err == nil && meta.NumDelivered > 1 {
				c.stats.redeliveries.Add(1)
			}
			if c.concurrency == 1 {
				c.handle(handleCtx, msg)
				return
			}
			if queue != nil {
				select {
				case queue <- msg:
				case <-stop:
					// Shutting down: unacked, it is redelivered.
				}
				return
			}
			slots <- struct{}{}
			inflight.Go(func() {
				defer func() { <-slots }()
				c.handle(handleCtx, msg)
			})
		},
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			c.log.Debug("subscription reported an error", "error", err)
			select {
			case check <- struct{}{}:
			default:
			}
		}),
	)
	if err != nil {
		return fmt.Errorf("subscribe consumer %s: %w", c.name, err)
	}
	closed := cc.Closed()
	defer func() {
		cc.Stop()
		// Closed is signalled once the handler in progress has returned.
		select {
		case <-closed:
		case <-time.After(handleTimeout + time.Second):
			c.log.Warn("event handler still running after shutdown timeout")
		}
	}()
	c.log.Debug("consuming")

	c.refreshStats(ctx, cons)
	statsTicker := time.NewTicker(statsInterval)
	defer statsTicker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-closed:
			return nil
		case <-statsTicker.C:
			c.refreshStats(ctx, cons)
		case <-check:
			// Transient errors (timeouts, a reconnect in progress) heal by
			// themselves; a deleted consumer or stream does not.
			infoCtx, cancel := context.WithTimeout(ctx, healthCheckTimeout)
			_, err := cons.Info(infoCtx)
			cancel()
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("consumer %s on %s is gone: %w", c.name, c.stream.Name, err)
			}
		}
	}
}

// statsInterval is how often a consumer's lag is read from the server for
// its metrics.
const statsInterval = 10 * time.Second

// refreshStats reads the consumer's lag from the server; a failure leaves
// the last figures (the subscription's own error handling deals with it).
func (c *Consumer) refreshStats(ctx context.Context, cons jetstream.Consumer) {
	ctx, cancel := context.WithTimeout(ctx, healthCheckTimeout)
	defer cancel()
	info, err := cons.Info(ctx)
	if err != nil {
		return
	}
	c.stats.pending.Store(int64(info.NumPending))
	c.stats.ackPending.Store(int64(info.NumAckPending))
	c.stats.redelivered.Store(int64(info.NumRedelivered))
}

// createConsumer creates or updates the durable JetStream consumer.
func (c *Consumer) createConsumer(ctx context.Context) (jetstream.Consumer, error) {
	cfg := c.config()
	cons, err := c.js.CreateOrUpdateConsumer(ctx, c.stream.Name, cfg)
	if apiErr, ok := errors.AsType[*jetstream.APIError](err); ok && apiErr.ErrorCode == errCodeMaxDeliverBackOff {
		// nats-server before 2.10 rejects BackOff with unlimited MaxDeliver.
		// Keep delivering forever with a constant AckWait instead; handler
		// failures still back off through NakWithDelay.
		warnFallback(c.log, "ack-backoff", "nats-server older than "+MinFullServerVersion+
			" rejects redelivery back-off with unlimited deliveries; using a constant ack wait",
			"cost", "an event whose consumer died mid-handler is redelivered every "+ackWait.String()+
				" instead of backing off to "+ackBackOff[len(ackBackOff)-1].String()+"; handler failures still back off")
		cfg.BackOff = nil
		cons, err = c.js.CreateOrUpdateConsumer(ctx, c.stream.Name, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("create consumer %s on %s: %w", c.name, c.stream.Name, err)
	}
	return cons, nil
}

// errCodeMaxDeliverBackOff is JetStream's "max deliver is required to be >
// length of backoff values" error.
const errCodeMaxDeliverBackOff jetstream.ErrorCode = 10116

// config is the durable JetStream consumer configuration.
func (c *Consumer) config() jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       c.name,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		BackOff:       ackBackOff,
	}
	// A single filter uses the older field, which every nats-server
	// understands. Several filters need a 2.10 server (FilterSubjects), so
	// the consumer reads the whole stream and skips the other subjects
	// itself (see wanted): it then works against any server.
	if len(c.subjects) == 1 {
		cfg.FilterSubject = c.subjects[0]
	}
	return cfg
}

// wanted reports whether a message on subject is for this consumer. With
// one filter subject the server already filtered.
func (c *Consumer) wanted(subject string) bool {
	if len(c.subjects) <= 1 {
		return true
	}
	for _, s := range c.subjects {
		if subjectMatches(s, subject) {
			return true
		}
	}
	return false
}

// subjectMatches reports whether subject matches the NATS pattern (with the
// "*" and ">" wildcards).
func subjectMatches(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		if tok == ">" {
			return len(s) > i
		}
		if i >= len(s) || (tok != "*" && tok != s[i]) {
			return false
		}
	}
	return len(p) == len(s)
}

// handle applies one message and acks it, or naks it with a delay if the
// handler failed.
func (c *Consumer) handle(ctx context.Context, msg jetstream.Msg) {
	if !c.wanted(msg.Subject()) {
		if err := msg.Ack(); err != nil {
			c.log.Warn("ack of a skipped message failed", "error", err)
		}
		return
	}
	ev := c.event(msg)
	log := c.log.With("event_id", ev.ID, "subject", ev.Subject, "type", ev.Type)
	if ev.ID == "" {
		// Without an id the event cannot be deduplicated; redelivering it
		// would not help either.
		log.Error("message has no event id; dropping it")
		if err := msg.Term(); err != nil {
			log.Warn("term failed", "error", err)
		}
		return
	}

	ctx, span := c.processSpan(ctx, ev)
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()

	duplicate, err := c.apply(ctx, ev)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "handler failed")
		delay := c.nakDelay(msg)
		log.Warn("handling event failed; redelivering", "error", err, "retry_in", delay)
		if err := msg.NakWithDelay(delay); err != nil {
			log.Warn("nak failed; the event will be redelivered after the ack wait", "error", err)
		}
		return
	}
	if duplicate {
		span.SetAttributes(semconv.MessagingOperationName("skip_duplicate"))
		log.Debug("event already processed; skipping")
	}
	if err := msg.Ack(); err != nil {
		// The event is committed; the redelivery will be skipped.
		log.Warn("ack failed", "error", err)
	}
}

// applyQueued applies the messages in queue, taking up to c.batch waiting
// ones at a time, until stop is closed; then it applies what is left.
func (c *Consumer) applyQueued(ctx context.Context, queue <-chan jetstream.Msg, stop <-chan struct{}) {
	for {
		select {
		case msg := <-queue:
			c.handleBatch(ctx, c.take(queue, msg))
		case <-stop:
			for {
				select {
				case msg := <-queue:
					c.handleBatch(ctx, c.take(queue, msg))
				default:
					return
				}
			}
		}
	}
}

// take returns first and up to c.batch-1 further messages already waiting
// in queue, in queue order.
func (c *Consumer) take(queue <-chan jetstream.Msg, first jetstream.Msg) []jetstream.Msg {
	batch := []jetstream.Msg{first}
	for len(batch) < c.batch {
		select {
		case msg := <-queue:
			batch = append(batch, msg)
		default:
			return batch
		}
	}
	return batch
}

// processSpan starts the span of applying ev, a child of the trace its
// publisher sent in the event's headers.
func (c *Consumer) processSpan(ctx context.Context, ev Event, extra ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx = otel.GetTextMapPropagator().Extract(ctx, headerCarrier(ev.Header))
	return c.tracer.Start(ctx, "process "+ev.Subject,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			semconv.MessagingSystemKey.String("nats"),
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingDestinationName(ev.Subject),
			semconv.MessagingMessageID(ev.ID),
			semconv.MessagingConsumerGroupName(c.name),
		),
		trace.WithAttributes(extra...),
	)
}

// handleBatch applies msgs in one transaction and acks them after the
// commit. If that fails, nothing of it is kept and each message is handled
// on its own (handle), so only a failing one is redelivered.
func (c *Consumer) handleBatch(ctx context.Context, msgs []jetstream.Msg) {
	var (
		batch []jetstream.Msg
		evs   []Event
	)
	for _, msg := range msgs {
		ev := c.event(msg)
		if len(msgs) == 1 || !c.wanted(msg.Subject()) || ev.ID == "" {
			// Skipped, dropped or alone: the single-event path handles it.
			c.handle(ctx, msg)
			continue
		}
		batch, evs = append(batch, msg), append(evs, ev)
	}
	if len(batch) == 0 {
		return
	}

	batchCtx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	spans := make([]trace.Span, len(evs))
	ctxs := make([]context.Context, len(evs))
	for i, ev := range evs {
		ctxs[i], spans[i] = c.processSpan(batchCtx, ev, semconv.MessagingBatchMessageCount(len(evs)))
	}
	duplicates, err := c.applyBatch(batchCtx, ctxs, evs)
	if err != nil {
		for _, span := range spans {
			span.RecordError(err)
			span.SetStatus(codes.Error, "batch rolled back; applying one by one")
			span.End()
		}
		c.log.Debug("applying a batch failed; applying its events one by one", "error", err, "events", len(evs))
		for _, msg := range batch {
			c.handle(ctx, msg)
		}
		return
	}
	for i, msg := range batch {
		if duplicates[i] {
			spans[i].SetAttributes(semconv.MessagingOperationName("skip_duplicate"))
		}
		if err := msg.Ack(); err != nil {
			// The event is committed; the redelivery will be skipped.
			c.log.Warn("ack failed", "error", err, "event_id", evs[i].ID)
		}
		spans[i].End()
	}
}

// applyBatch is apply for several events in one transaction: each is
// recorded in processed_events and, unless it was processed before (also
// earlier in the same batch), handled with its own context. Any error or
// panic rolls back the whole batch.
func (c *Consumer) applyBatch(ctx context.Context, ctxs []context.Context, evs []Event) (duplicates []bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	duplicates = make([]bool, len(evs))
	hooks := &afterCommitHooks{} // see AfterCommit and Deferred
	err = db.InTx(ctx, c.db, func(tx *sqlx.Tx) error {
		fresh, err := c.markProcessed(ctx, tx, evs)
		if err != nil {
			return err
		}
		for i, ev := range evs {
			if !fresh[i] {
				duplicates[i] = true
				continue
			}
			if err := c.handler(context.WithValue(ctxs[i], afterCommitKey{}, hooks), tx, ev); err != nil {
				return fmt.Errorf("event %s: %w", ev.ID, err)
			}
		}
		return hooks.flush(ctx, tx)
	})
	if err == nil {
		hooks.run()
	}
	return duplicates, err
}

// markProcessed records evs in processed_events within tx, in one
// statement, and reports which of them are new: not processed before, and
// the first of their id in evs.
func (c *Consumer) markProcessed(ctx context.Context, tx *sqlx.Tx, evs []Event) ([]bool, error) {
	type processed struct {
		Consumer string `db:"consumer"`
		EventID  string `db:"event_id"`
	}
	rows := make([]processed, len(evs))
	for i, ev := range evs {
		rows[i] = processed{c.name, ev.ID}
	}
	q, args, err := sqlx.Named(markProcessedSQL, rows)
	if err != nil {
		return nil, fmt.Errorf("record %d processed events: %w", len(evs), err)
	}
	var inserted []string
	if err := tx.SelectContext(ctx, &inserted, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("record %d processed events: %w", len(evs), err)
	}
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	fresh := make([]bool, len(evs))
	for i, ev := range evs {
		fresh[i] = isNew[ev.ID]
		delete(isNew, ev.ID) // a second copy in the batch is a duplicate
	}
	return fresh, nil
}

// apply runs the handler and the processed_events insert in one
// transaction. It reports duplicate (and does not call the handler) when the
// event was processed before. A panicking handler is turned into an error so
// a poison event is redelivered with back-off instead of crashing the
// process.
func (c *Consumer) apply(ctx context.Context, ev Event) (duplicate bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	ctx, hooks := withAfterCommit(ctx) // see AfterCommit and Deferred
	err = db.InTx(ctx, c.db, func(tx *sqlx.Tx) error {
		// Inserting first also serializes two replicas racing on the same
		// event: the second blocks on the key until the first commits, then
		// sees the row.
		fresh, err := c.markProcessed(ctx, tx, []Event{ev})
		if err != nil {
			return err
		}
		if !fresh[0] {
			duplicate = true
			return nil
		}
		if err := c.handler(ctx, tx, ev); err != nil {
			return err
		}
		return hooks.flush(ctx, tx)
	})
	if err == nil && !duplicate {
		hooks.run()
	}
	return duplicate, err
}

// event converts a JetStream message into an Event. Messages from other
// publishers may lack our headers; the JetStream message id, or failing
// that the stream position, still identifies them for deduplication.
func (c *Consumer) event(msg jetstream.Msg) Event {
	header := msg.Headers()
	id := header.Get(HeaderEventID)
	if id == "" {
		id = header.Get(jetstream.MsgIDHeader)
	}
	if id == "" {
		if meta, err := msg.Metadata(); err == nil {
			id = meta.Stream + ":" + strconv.FormatUint(meta.Sequence.Stream, 10)
		}
	}
	return Event{
		ID:      id,
		Subject: msg.Subject(),
		Type:    header.Get(HeaderEventType),
		Payload: msg.Data(),
		Header:  header,
	}
}

// nakDelay doubles the redelivery delay with each delivery of msg.
func (c *Consumer) nakDelay(msg jetstream.Msg) time.Duration {
	attempt := uint64(1)
	if meta, err := msg.Metadata(); err == nil && meta.NumDelivered > 0 {
		attempt = meta.NumDelivered
	}
	delay := c.nakDelayMin
	for i := uint64(1); i < attempt && delay < c.nakDelayMax; i++ {
		delay *= 2
	}
	return min(delay, c.nakDelayMax)
}
