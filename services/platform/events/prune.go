package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/db"
)

// Pruning defaults.
const (
	// DefaultOutboxRetention is how long published outbox rows are kept
	// (for inspection and replay).
	DefaultOutboxRetention = 7 * 24 * time.Hour
	// DefaultProcessedRetention is how long processed event ids are kept.
	// A redelivery can only come while the event is still in its stream, so
	// this must exceed the streams' maximum age (TIA_NATS_MAX_AGE).
	DefaultProcessedRetention = 15 * 24 * time.Hour
	// DefaultPruneBatch bounds the rows one delete statement removes.
	DefaultPruneBatch = 5000
	// DefaultPruneInterval is how often the pruner runs.
	DefaultPruneInterval = time.Hour
)

// PruneOptions configure a Pruner; zero fields take the defaults.
type PruneOptions struct {
	// OutboxRetention: published outbox rows older than this are deleted.
	OutboxRetention time.Duration
	// ProcessedRetention: processed_events rows older than this are deleted.
	ProcessedRetention time.Duration
	// Batch is the most rows one delete statement removes.
	Batch int
	// Interval between runs; the first run is one minute after start (or
	// Interval, when shorter).
	Interval time.Duration
}

func (o PruneOptions) withDefaults() PruneOptions {
	o.OutboxRetention = config.PositiveOr(o.OutboxRetention, DefaultOutboxRetention)
	o.ProcessedRetention = config.PositiveOr(o.ProcessedRetention, DefaultProcessedRetention)
	o.Batch = config.PositiveOr(o.Batch, DefaultPruneBatch)
	o.Interval = config.PositiveOr(o.Interval, DefaultPruneInterval)
	return o
}

// Pruner keeps the platform tables of one database bounded: it deletes
// published outbox rows and processed event ids older than their retention,
// in bounded batches. Several replicas may run one each: the deletes are
// idempotent.
type Pruner struct {
	db   *sqlx.DB
	opts PruneOptions
	log  *slog.Logger
}

// NewPruner returns a pruner of d's outbox and processed_events.
func NewPruner(d *sqlx.DB, o PruneOptions, log *slog.Logger) *Pruner {
	if log == nil {
		log = slog.Default()
	}
	return &Pruner{db: d, opts: o.withDefaults(), log: log.With("component", "event-pruner")}
}

// Run prunes every Interval until ctx is done, then returns nil.
func (p *Pruner) Run(ctx context.Context) error {
	wait := min(time.Minute, p.opts.Interval)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		p.PruneOnce(ctx)
		wait = p.opts.Interval
	}
}

// PruneOnce deletes what has expired now and logs failures; it returns the
// rows deleted from the outbox and from processed_events.
func (p *Pruner) PruneOnce(ctx context.Context) (outbox, processed int64) {
	outbox, err := db.Prune(ctx, p.db, "outbox", "published_at", "published_at IS NOT NULL", p.opts.OutboxRetention, p.opts.Batch)
	if err != nil && ctx.Err() == nil {
		p.log.Warn("pruning published outbox rows failed", "error", err)
	}
	processed, err = db.Prune(ctx, p.db, "processed_events", "processed_at", "", p.opts.ProcessedRetention, p.opts.Batch)
	if err != nil && ctx.Err() == nil {
		p.log.Warn("pruning processed event ids failed", "error", err)
	}
	if outbox+processed > 0 {
		p.log.Debug("pruned", "outbox_rows", outbox, "processed_events_rows", processed)
	}
	return outbox, processed
}
