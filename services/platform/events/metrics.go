package events

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tia-platform/tia/services/platform/telemetry/observe"
)

// meter records the package's metrics with the global meter provider (the
// Prometheus endpoint of package telemetry).
func meter() metric.Meter { return otel.Meter(instrumentationName) }

// RegisterOutboxMetrics reports, for the outbox in d of service, how many
// events wait to be relayed (tia_outbox_backlog) and how old the oldest of
// them is (tia_outbox_oldest_age_seconds; 0 when none waits), read at each
// collection. Call the returned function to stop.
func RegisterOutboxMetrics(d *sqlx.DB, service string) (unregister func() error, err error) {
	set := observe.New(meter())
	backlog := set.Int64Gauge("tia.outbox.backlog", "Events written to the outbox and not yet relayed to NATS.", "{event}")
	oldest := set.Float64Gauge("tia.outbox.oldest_age", "Age of the oldest event not yet relayed to NATS (0 when none waits).", "s")
	attrs := metric.WithAttributes(attribute.String("service", service))
	query := `SELECT COUNT(*), MIN(created_at) FROM outbox WHERE published_at IS NULL`
	return set.Register(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var (
			n  int64
			at any
		)
		if err := d.QueryRowxContext(ctx, query).Scan(&n, &at); err != nil {
			return fmt.Errorf("outbox metrics: %w", err)
		}
		age := 0.0
		if t, ok := timestamp(at); ok {
			age = max(0, time.Since(t).Seconds())
		}
		o.ObserveInt64(backlog, n, attrs)
		o.ObserveFloat64(oldest, age, attrs)
		return nil
	})
}

// timestamp reads a timestamp column: a time.Time (PostgreSQL, and SQLite
// when the driver recognised it) or the platform's UTC text on SQLite.
func timestamp(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case []byte:
		return timestamp(string(t))
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
			if parsed, err := time.Parse(layout, t); err == nil {
				return parsed, true
			}
		}
	}
	return time.Time{}, false
}

// consumerStats are the figures of one durable consumer, refreshed by its
// Run from the server's consumer info.
type consumerStats struct {
	pending      atomic.Int64 // not yet delivered
	ackPending   atomic.Int64 // delivered, not yet acknowledged
	redelivered  atomic.Int64 // delivered more than once and not yet acknowledged
	redeliveries atomic.Int64 // deliveries after the first, counted as they arrive
}

// registerConsumerMetrics reports c's lag (tia_consumer_pending_events,
// tia_consumer_ack_pending_events), its events waiting after a redelivery
// (tia_consumer_redelivered_events) and every redelivery it received
// (tia_consumer_redeliveries_total).
func (c *Consumer) registerConsumerMetrics() (func() error, error) {
	set := observe.New(meter())
	pending := set.Int64Gauge("tia.consumer.pending_events", "Events in the stream that the durable consumer has not yet received (consumer lag).", "{event}")
	ackPending := set.Int64Gauge("tia.consumer.ack_pending_events", "Events received by the consumer and not yet acknowledged.", "{event}")
	redelivered := set.Int64Gauge("tia.consumer.redelivered_events", "Events delivered more than once and not yet acknowledged.", "{event}")
	redeliveries := set.Int64Counter("tia.consumer.redeliveries", "Deliveries after an event's first one, received by this process.", "{delivery}")
	attrs := metric.WithAttributes(attribute.String("consumer", c.name), attribute.String("stream", c.stream.Name))
	return set.Register(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(pending, c.stats.pending.Load(), attrs)
		o.ObserveInt64(ackPending, c.stats.ackPending.Load(), attrs)
		o.ObserveInt64(redelivered, c.stats.redelivered.Load(), attrs)
		o.ObserveInt64(redeliveries, c.stats.redeliveries.Load(), attrs)
		return nil
	})
}
