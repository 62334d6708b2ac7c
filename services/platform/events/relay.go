package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/db"
)

// Relay defaults.
const (
	defaultPollInterval   = 200 * time.Millisecond
	defaultBatchSize      = 100
	defaultPublishTimeout = 5 * time.Second
)

// Relay publishes the outbox rows of one database to JetStream, in seq
// order, and marks them published.
//
// Each row is published with its event id as JetStream message id, so a
// row published again after a crash (published, but not yet marked) is
// dropped by the stream's duplicate window. On PostgreSQL rows are claimed
// with SELECT ... FOR UPDATE SKIP LOCKED, so several replicas can relay the
// same database concurrently. A batch is sent without waiting for each
// acknowledgement; failed publishes are logged and retried on the next poll
// with the rows behind them (so a failed event may follow later ones that
// JetStream had already taken: consumers, which may see redelivered events
// late anyway, must not rely on order after a failure).
type Relay struct {
	db        *sqlx.DB
	js        jetstream.JetStream
	sql       relaySQL
	interval  time.Duration
	batchSize int
	timeout   time.Duration
	log       *slog.Logger
	tracer    trace.Tracer
	wake      chan struct{}
	prefix    string
	// failing is set while relaying fails, to log an outage only once. It
	// is only accessed by Run's goroutine.
	failing bool

	// handed are events given to Hand, waiting to be sent; marks are the
	// ids of handed events JetStream has taken, waiting to be marked in
	// the outbox.
	handMu   sync.Mutex
	handed   []outboxRow
	marks    []string
	handWake chan struct{}
	markWake chan struct{}
}

// handMax bounds the events waiting in Relay.handed; beyond it, handed
// events are left to the poll.
const handMax = 10_000

// RelayOption configures a Relay.
type RelayOption func(*Relay)

// WithPollInterval sets how often the relay looks for unpublished rows when
// it is not woken by Notify (default 200ms).
func WithPollInterval(d time.Duration) RelayOption {
	return func(r *Relay) { r.interval = config.PositiveOr(d, r.interval) }
}

// WithBatchSize sets how many rows the relay claims per round trip
// (default 100).
func WithBatchSize(n int) RelayOption {
	return func(r *Relay) { r.batchSize = config.PositiveOr(n, r.batchSize) }
}

// WithPublishTimeout bounds how long the relay waits for JetStream to
// acknowledge one event (default 5s). A publish lost while NATS restarts is
// only retried after this timeout.
func WithPublishTimeout(d time.Duration) RelayOption {
	return func(r *Relay) { r.timeout = config.PositiveOr(d, r.timeout) }
}

// WithSubjectPrefix publishes every event under prefix+subject, to match
// streams made with Stream.WithPrefix (several deployments sharing one NATS).
func WithSubjectPrefix(prefix string) RelayOption {
	return func(r *Relay) { r.prefix = prefix }
}

// WithRelayLogger sets the relay's logger (default slog.Default()).
func WithRelayLogger(l *slog.Logger) RelayOption {
	return func(r *Relay) {
		if l != nil {
			r.log = l
		}
	}
}

// NewRelay returns a relay for the outbox in d, publishing to js. Spans are
// recorded with the global tracer provider.
func NewRelay(d *sqlx.DB, js jetstream.JetStream, opts ...RelayOption) *Relay {
	r := &Relay{
		db:        d,
		js:        js,
		sql:       relaySQLFor(db.Dialect(d)),
		interval:  defaultPollInterval,
		batchSize: defaultBatchSize,
		timeout:   defaultPublishTimeout,
		log:       slog.Default(),
		tracer:    otel.Tracer(instrumentationName),
		wake:      make(chan struct{}, 1),
		handWake:  make(chan struct{}, 1),
		markWake:  make(chan struct{}, 1),
	}
	for _, opt := range opts {
		opt(r)
	}
	r.log = r.log.With("component", "outbox-relay")
	return r
}

// Notify wakes the relay so it publishes without waiting for the next
// poll. Call it after committing a transaction that called Publish. It
// never blocks; wake-ups while the relay is busy are coalesced.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Hand gives the relay events committed just now (Stage), to publish at
// once, in the order given, without reading them back from the outbox.
// Events never handed over (another process wrote them, or the relay
// stopped first) are found by the poll, as are those handed while the
// relay holds handMax already (Hand then wakes the poll). An event sent both
// ways is dropped by the stream's duplicate window. It never blocks.
func (r *Relay) Hand(evs ...Outgoing) {
	if len(evs) == 0 {
		return
	}
	r.handMu.Lock()
	full := len(r.handed)+len(evs) > handMax
	if !full {
		for _, ev := range evs {
			r.handed = append(r.handed, ev.row)
		}
	}
	r.handMu.Unlock()
	if full {
		r.Notify()
		return
	}
	signal(r.handWake)
}

// signal wakes the goroutine waiting on c, if it is not awake already.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run relays until ctx is done and then returns nil. Errors are logged and
// retried, so Run only ends with ctx.
func (r *Relay) Run(ctx context.Context) error {
	var handing sync.WaitGroup
	defer handing.Wait()
	sent := make(chan struct{})
	handing.Go(func() {
		defer close(sent)
		r.sendHanded(ctx)
	})
	handing.Go(func() { r.markHanded(sent) })
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		r.relayPending(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-r.wake:
		}
	}
}

// sendHanded publishes the events given to Hand until ctx is done, without
// waiting for one event's acknowledgement before sending the next:
// ackHanded waits for them, in order, and passes those JetStream took to
// markHanded. The others are left to the poll.
func (r *Relay) sendHanded(ctx context.Context) {
	inFlight := make(chan sentEvent, handInFlight)
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		r.ackHanded(ctx, inFlight)
	}()
	defer func() {
		close(inFlight)
		<-acked
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.handWake:
		}
		r.handMu.Lock()
		rows := r.handed
		r.handed = nil
		r.handMu.Unlock()
		for _, row := range rows {
			span, future, err := r.publishAsync(ctx, row)
			if err != nil {
				failed(span, err)
				span.End()
				continue // the poll publishes it
			}
			inFlight <- sentEvent{row: row, span: span, future: future}
		}
	}
}

// handInFlight bounds the handed events sent and not yet acknowledged.
const handInFlight = 1024

// sentEvent is an event sent to JetStream, awaiting its acknowledgement.
type sentEvent struct {
	row    outboxRow
	span   trace.Span
	future jetstream.PubAckFuture
}

// ackHanded waits for the acknowledgement of each event sendHanded sent, in
// order, each within the publish timeout, and queues the acknowledged ones
// for markHanded.
func (r *Relay) ackHanded(ctx context.Context, inFlight <-chan sentEvent) {
	failing := false
	for s := range inFlight {
		timeout := time.NewTimer(r.timeout)
		_, err := r.await(ctx, s, timeout.C)
		timeout.Stop()
		s.span.End()
		switch {
		case err == nil:
			r.handMu.Lock()
			r.marks = append(r.marks, s.row.ID)
			r.handMu.Unlock()
			signal(r.markWake)
			if failing {
				r.log.Info("publishing handed events recovered")
				failing = false
			}
		case ctx.Err() == nil && !failing:
			r.log.Warn("publishing a handed event failed; the poll publishes it", "event_id", s.row.ID, "error", err)
			failing = true
		}
	}
}

// await waits for the acknowledgement of s until timeout fires or ctx
// ends; a failure is recorded on its span.
func (r *Relay) await(ctx context.Context, s sentEvent, timeout <-chan time.Time) (*jetstream.PubAck, error) {
	var err error
	select {
	case ack := <-s.future.Ok():
		return ack, nil
	case err = <-s.future.Err():
	case <-timeout:
		err = fmt.Errorf("no acknowledgement within %s", r.timeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	failed(s.span, err)
	return nil, err
}

// markHanded marks the handed events JetStream took as published in the
// outbox, all that are waiting in one statement per batchSize, until sent
// is closed (sendHanded is done); then it marks what is left. A failed mark
// is logged: the poll publishes those events again, and the stream drops
// the copies.
func (r *Relay) markHanded(sent <-chan struct{}) {
	for {
		stopping := false
		select {
		case <-sent:
			stopping = true
		case <-r.markWake:
		}
		r.handMu.Lock()
		ids := r.marks
		r.marks = nil
		r.handMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		for chunk := range slices.Chunk(ids, r.batchSize) {
			if err := r.mark(ctx, r.db, chunk); err != nil {
				r.log.Warn("marking handed events published failed; they will be published again", "error", err)
			}
		}
		cancel()
		if stopping {
			return
		}
	}
}

// relayPending publishes batches until the outbox has no unpublished rows
// left or a batch fails.
func (r *Relay) relayPending(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := r.relayBatch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// While NATS is down every poll fails; warn once per outage.
			level := slog.LevelWarn
			if r.failing {
				level = slog.LevelDebug
			}
			r.log.Log(ctx, level, "relaying outbox failed; retrying on next poll", "error", err)
			r.failing = true
			return
		}
		if r.failing {
			r.log.Info("relaying outbox recovered")
			r.failing = false
		}
		if n < r.batchSize {
			return
		}
	}
}

// outboxRow is an unpublished outbox row.
type outboxRow struct {
	ID      string `db:"id"`
	Subject string `db:"subject"`
	Type    string `db:"type"`
	Payload []byte `db:"payload"`
	Headers string `db:"headers"`
}

// relayBatch publishes up to batchSize unpublished rows and marks the ones
// that were published. It returns how many rows it claimed.
func (r *Relay) relayBatch(ctx context.Context) (int, error) {
	if !r.sql.lockRows {
		// SQLite: there is a single writer anyway, and holding the write lock
		// while talking to NATS would stall the application's writes. Two
		// relays on one file would publish some rows twice, which the
		// stream's duplicate window absorbs.
		return r.relayFrom(ctx, r.db)
	}
	var n int
	var publishErr error
	err := db.InTx(ctx, r.db, func(tx *sqlx.Tx) error {
		var err error
		n, err = r.relayFrom(ctx, tx)
		if err != nil && !isPublishError(err) {
			return err
		}
		// Commit the marks of the rows published before the failure.
		publishErr = err
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, publishErr
}

// publishError marks errors from JetStream, as opposed to database errors,
// so relayBatch still commits the rows published before the failure.
type publishError struct{ err error }

func (e *publishError) Error() string { return e.err.Error() }
func (e *publishError) Unwrap() error { return e.err }

func isPublishError(err error) bool {
	_, ok := errors.AsType[*publishError](err)
	return ok
}

// relayFrom selects unpublished rows through q (a transaction on
// PostgreSQL, so the rows stay claimed until it ends), publishes them in
// order and marks the published ones.
func (r *Relay) relayFrom(ctx context.Context, q sqlx.ExtContext) (int, error) {
	var rows []outboxRow
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(r.sql.selectPending), r.batchSize); err != nil {
		return 0, fmt.Errorf("select unpublished outbox rows: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}

	published, publishErr := r.publishAll(ctx, rows)
	if err := r.mark(ctx, q, published); err != nil {
		return len(rows), err
	}
	return len(rows), publishErr
}

// mark marks the outbox rows with ids published, through q.
func (r *Relay) mark(ctx context.Context, q sqlx.ExtContext, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	query, args, err := sqlx.In(r.sql.markPublished, ids)
	if err != nil {
		return fmt.Errorf("build mark-published query: %w", err)
	}
	if _, err := q.ExecContext(ctx, q.Rebind(query), args...); err != nil {
		// The rows will be published again; JetStream drops the copies.
		return fmt.Errorf("mark %d outbox rows published: %w", len(ids), err)
	}
	return nil
}

// publishAll sends rows to JetStream without waiting for each
// acknowledgement before sending the next (the round trip per event would
// bound the relay to a few hundred events a second), then waits for the
// acknowledgements in order. It returns the ids of the leading rows that
// were acknowledged; at the first failure it stops, and the rows from there
// on are sent again on the next poll (those JetStream took already are
// dropped by its duplicate window).
func (r *Relay) publishAll(ctx context.Context, rows []outboxRow) ([]string, error) {
	inFlight := make([]sentEvent, 0, len(rows))
	defer func() {
		for _, s := range inFlight {
			s.span.End()
		}
	}()
	var sendErr error
	for _, row := range rows {
		span, future, err := r.publishAsync(ctx, row)
		if err != nil {
			failed(span, err)
			span.End()
			sendErr = &publishError{err}
			break
		}
		inFlight = append(inFlight, sentEvent{row: row, span: span, future: future})
	}

	timeout := time.NewTimer(r.timeout)
	defer timeout.Stop()
	published := make([]string, 0, len(inFlight))
	for _, s := range inFlight {
		subject := r.prefix + s.row.Subject
		ack, err := r.await(ctx, s, timeout.C)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
				return published, &publishError{ctxErr}
			}
			return published, &publishError{fmt.Errorf("publish event %s to %s: %w", s.row.ID, subject, err)}
		}
		if ack.Duplicate {
			r.log.Debug("event was already in the stream", "event_id", s.row.ID, "subject", subject, "stream", ack.Stream)
		}
		published = append(published, s.row.ID)
	}
	return published, sendErr
}

// failed marks a send's span as failed with err.
func failed(span trace.Span, err error) {
	span.RecordError(err)
	span.SetStatus(codes.Error, "publish failed")
}

// publishAsync sends one row to JetStream inside a producer span that
// continues the trace stored with the row; the span's context replaces the
// stored one on the wire so the consumer's span becomes its child. The
// caller ends the span.
func (r *Relay) publishAsync(ctx context.Context, row outboxRow) (trace.Span, jetstream.PubAckFuture, error) {
	header := nats.Header{}
	if err := json.Unmarshal([]byte(row.Headers), &header); err != nil {
		// Publish anyway: losing the trace link is better than blocking
		// the outbox behind a row that can never be published.
		r.log.Warn("outbox row has invalid headers; publishing without them",
			"event_id", row.ID, "subject", row.Subject, "error", err)
		header = nats.Header{}
	}
	header.Set(HeaderEventID, row.ID)
	header.Set(HeaderEventType, row.Type)
	subject := r.prefix + row.Subject

	propagator := otel.GetTextMapPropagator()
	parent := propagator.Extract(ctx, headerCarrier(header))
	spanCtx, span := r.tracer.Start(parent, "send "+subject,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			semconv.MessagingSystemKey.String("nats"),
			semconv.MessagingOperationTypeSend,
			semconv.MessagingDestinationName(subject),
			semconv.MessagingMessageID(row.ID),
		),
	)
	propagator.Inject(spanCtx, headerCarrier(header))
	future, err := r.js.PublishMsgAsync(&nats.Msg{Subject: subject, Data: row.Payload, Header: header}, jetstream.WithMsgID(row.ID))
	if err != nil {
		return span, nil, fmt.Errorf("publish event %s to %s: %w", row.ID, subject, err)
	}
	return span, future, nil
}

// relaySQL holds the statements that differ between dialects; all use "?"
// placeholders and are rebound before use.
type relaySQL struct {
	// lockRows tells whether selectPending claims rows, which requires
	// running it in a transaction.
	lockRows      bool
	selectPending string
	markPublished string
}

func relaySQLFor(dialect string) relaySQL {
	const selectPending = `SELECT id, subject, type, payload, headers FROM outbox
		WHERE published_at IS NULL ORDER BY seq LIMIT ?`
	if dialect == db.DialectPostgres {
		return relaySQL{
			lockRows:      true,
			selectPending: selectPending + ` FOR UPDATE SKIP LOCKED`,
			markPublished: `UPDATE outbox SET published_at = now() WHERE id IN (?)`,
		}
	}
	// SQLite keeps timestamps as UTC text that sorts chronologically.
	return relaySQL{
		selectPending: selectPending,
		markPublished: `UPDATE outbox SET published_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id IN (?)`,
	}
}
