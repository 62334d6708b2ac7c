package notification

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/tia-platform/tia/services/notification/internal/routing"
	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/uow"
)

// defaultRetention: a claimant's messages are kept a year (a claim is
// decided and paid well within it), finished deliveries 90 days (long
// enough to answer "did it reach us?"), the audit trail five years.
var defaultRetention = struct{ inbox, deliveries, audit, interval time.Duration }{
	inbox: 365 * 24 * time.Hour, deliveries: 90 * 24 * time.Hour, audit: 5 * 365 * 24 * time.Hour, interval: time.Hour,
}

// retentionJob is the jobs row the replicas share.
const retentionJob = "notification-retention"

// retention deletes what is kept past its time (storage limitation, GDPR
// art. 5(1)(e)): messages in asylum seekers' inboxes with their deliveries,
// delivered and dead-lettered deliveries of everyone, old audit entries.
// Every replica runs the loop; a lease row in the database lets one of
// them do each run.
type retention struct {
	s                                  *Service
	inbox, deliveries, audit, interval time.Duration
	holder                             string
}

func newRetention(s *Service, cfg Config) *retention {
	r := &retention{s: s, inbox: cfg.InboxRetention, deliveries: cfg.DeliveryRetention, audit: cfg.AuditRetention,
		interval: cfg.RetentionInterval, holder: uuid.NewString()}
	if r.inbox <= 0 {
		r.inbox = defaultRetention.inbox
	}
	if r.deliveries <= 0 {
		r.deliveries = defaultRetention.deliveries
	}
	if r.audit <= 0 {
		r.audit = defaultRetention.audit
	}
	if r.interval <= 0 {
		r.interval = defaultRetention.interval
	}
	return r
}

// run tries the job every so often until ctx is done.
func (r *retention) run(ctx context.Context) {
	t := time.NewTicker(min(r.interval, time.Minute))
	defer t.Stop()
	for {
		if _, err := r.once(ctx); err != nil && ctx.Err() == nil {
			r.s.log.WarnContext(ctx, "retention", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// retentionReport says what one run deleted.
type retentionReport struct {
	Messages, Deliveries, AuditEntries int64
}

// batch bounds one delete.
const retentionBatch = 500

// once runs the job if it is due and no other replica holds it; ran says
// whether it ran here.
func (r *retention) once(ctx context.Context) (rep *retentionReport, err error) {
	now := r.s.now()
	ok, err := r.s.store.AcquireJob(ctx, retentionJob, r.holder, now, r.interval, 10*time.Minute)
	if err != nil || !ok {
		return nil, err
	}
	rep = &retentionReport{}
	messages, err := r.s.units.Sweep(ctx, retentionBatch, func(w *uow.Work) (int, error) {
		keys, err := store.ExpiredMessages(ctx, w.Tx, routing.AsylumSeekerPrefix, now.Add(-r.inbox), retentionBatch)
		if err != nil || len(keys) == 0 {
			return 0, err
		}
		if err := store.DeleteMessages(ctx, w.Tx, keys); err != nil {
			return 0, err
		}
		entries := make([]audit.Entry, 0, len(keys))
		for _, k := range keys {
			// The recipient id carries the person's pseudonym: the
			// entry is found under it without the dossier number.
			e := r.s.audit.Entry(ctx, audit.OpAnonymise, messagePattern.Format(k.Recipient, k.ID), "")
			e.Person, _ = routing.PersonOf(k.Recipient)
			entries = append(entries, e)
		}
		return len(keys), r.s.audit.Append(ctx, w.Tx, entries...)
	})
	rep.Messages = int64(messages)
	if err != nil || ctx.Err() != nil {
		return rep, err
	}
	for {
		n, err := r.s.store.DeleteFinishedDeliveries(ctx, now.Add(-r.deliveries), retentionBatch)
		if err != nil {
			return rep, err
		}
		rep.Deliveries += n
		if n < retentionBatch {
			break
		}
	}
	if rep.AuditEntries, err = r.s.audit.Prune(ctx, now.Add(-r.audit)); err != nil {
		return rep, err
	}
	return rep, r.s.store.FinishJob(ctx, retentionJob, r.holder, r.s.now())
}
