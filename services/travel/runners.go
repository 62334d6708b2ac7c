package travel

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// checker runs every check of a claim: the local facts from the store and
// the activity registry's answer on the certificate.
type checker struct {
	store    *store.Store
	registry *registry
	rules    domain.Rules
	clock    clock.Clock
}

// evaluate runs every check on c and sets its state and reasons. Days are
// Swedish calendar days (clock.Day), as in the registry.
func (k *checker) evaluate(ctx context.Context, c *domain.Claim) error {
	f, err := k.store.Facts(ctx, *c)
	if err != nil {
		return err
	}
	f.Submitted = clock.Day(c.SubmitTime)
	f.Registry = k.registry.check(ctx, *c)
	c.State, c.Reasons = domain.Check(*c, f, k.rules)
	if c.State == domain.StateApproved {
		c.DecideTime = k.clock.Now().UTC()
	}
	return nil
}

// publishDecided adds ClaimDecided to the unit of work for a claim that left
// PENDING.
func publishDecided(w *uow.Work, c domain.Claim) error {
	if c.State == domain.StatePending {
		return nil
	}
	return publish(w, &travelv1.ClaimDecided{Claim: claimToProto(c, ServicePrincipal)})
}

// rechecker asks the registry again about claims waiting for it.
type rechecker struct {
	store  *store.Store
	units  *uow.Runner
	checks *checker
	log    *slog.Logger
}

// Run re-checks every interval until ctx ends.
func (r *rechecker) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.Once(ctx)
		}
	}
}

// Once re-checks pending claims oldest first and decides those the registry
// answers for; it stops at the first claim the registry still cannot
// answer. It returns how many were decided.
func (r *rechecker) Once(ctx context.Context) int {
	list, err := r.store.PendingClaims(ctx, 200)
	if err != nil {
		r.log.ErrorContext(ctx, "pending claims", "err", err)
		return 0
	}
	decided := 0
	for _, c := range list {
		if err := r.checks.evaluate(ctx, &c); err != nil {
			r.log.ErrorContext(ctx, "re-check claim", "claim", c.Name(), "err", err)
			continue
		}
		if c.State == domain.StatePending {
			break // still unreachable: try the rest at the next tick
		}
		err := r.units.Do(ctx, func(w *uow.Work) error {
			if err := store.UpdateClaim(ctx, w.Tx, c, []string{domain.StatePending}); err != nil {
				return err
			}
			if err := w.Audit(audit.OpUpdate, c.Name(), c.Dossier); err != nil {
				return err
			}
			return publishDecided(w, c)
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			r.log.ErrorContext(ctx, "decide re-checked claim", "claim", c.Name(), "err", err)
			continue
		}
		decided++
	}
	return decided
}

// paymentRunner executes payment runs: those CreatePaymentRun started (it
// wakes the runner) and those a crash or a restart left RUNNING.
type paymentRunner struct {
	store  *store.Store
	units  *uow.Runner
	relay  *events.Relay
	clock  clock.Clock
	log    *slog.Logger
	batch  int
	dir    string
	debtor domain.Debtor
	// wake asks Run to look for runs to execute now.
	wake chan struct{}
	// paying is held by the run executing now: runs execute one at a time.
	paying sync.Mutex
}

// Wake makes Run look for RUNNING runs at once.
func (p *paymentRunner) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run executes the RUNNING runs at start, when woken and every interval,
// until ctx ends.
func (p *paymentRunner) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p.resume(ctx)
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-t.C:
		}
	}
}

// resume executes the runs left RUNNING.
func (p *paymentRunner) resume(ctx context.Context) {
	running, err := p.store.RunningRuns(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.log.ErrorContext(ctx, "running payment runs", "err", err)
		}
		return
	}
	for _, r := range running {
		if err := p.Execute(ctx, r.ID); err != nil && ctx.Err() == nil {
			p.log.ErrorContext(ctx, "payment run", "run", r.Name(), "err", err)
		}
	}
}

// Execute pays the run's claims batch by batch until none is approved and
// unpaid, then completes it and writes its payment file. Each batch is one
// unit of work (payments, claim states, run totals, ClaimPaid events, audit
// entries), so a run killed at any point resumes where the last commit left
// it, and the primary key of payments pays each claim once.
func (p *paymentRunner) Execute(ctx context.Context, id string) error {
	p.paying.Lock()
	defer p.paying.Unlock()
	name := domain.PaymentRun{ID: id}.Name()
	// Batches walk the approved claims in id order; when they run out, one
	// more walk from the start picks up claims approved behind the cursor
	// meanwhile.
	after, fromStart := "", true
	for {
		var b store.Batch
		err := p.units.Do(ctx, func(w *uow.Work) error {
			var err error
			b, err = p.store.PayBatch(ctx, w.Tx, id, after, p.batch, p.clock.Now())
			if err != nil || len(b.Paid) == 0 {
				return err
			}
			msgs := make([]*travelv1.ClaimPaid, len(b.Paid))
			names, dossiers := make([]string, len(b.Paid)), make([]string, len(b.Paid))
			for i, c := range b.Paid {
				msgs[i] = &travelv1.ClaimPaid{Claim: claimToProto(c, ServicePrincipal), PaymentRun: name, AmountOre: b.Payments[i].AmountOre}
				names[i], dossiers[i] = c.Name(), c.Dossier
			}
			// One insert for the batch's events (the unit's Publish adds
			// them one by one); the relay is woken below.
			if _, err := events.PublishBatch(ctx, w.Tx, SubjectClaimPaid, msgs); err != nil {
				return err
			}
			// The audit entries last: their append holds the trail's head
			// row, which every audited request of the service waits for,
			// until the commit.
			return w.AuditEach(audit.OpUpdate, names, dossiers)
		})
		if err != nil {
			return err
		}
		if len(b.Paid) > 0 && p.relay != nil {
			p.relay.Notify()
		}
		if b.Taken > 0 {
			after, fromStart = b.Last, false
			continue
		}
		if fromStart {
			break
		}
		after, fromStart = "", true
	}
	// The file first, then the completion, both with the same time: a
	// crash in between rewrites the file on resume, and the file served by
	// GetPaymentFile is the one written.
	run, err := p.store.GetRun(ctx, id)
	if err != nil || run.State != domain.RunRunning {
		return err
	}
	run.CompleteTime = p.clock.Now().UTC()
	run.ClaimCount, run.TotalOre, err = p.store.RunTotals(ctx, id)
	if err != nil {
		return err
	}
	if p.dir != "" {
		if err := p.writeFile(ctx, run); err != nil {
			return err
		}
	}
	return p.units.Do(ctx, func(w *uow.Work) error { return store.CompleteRun(ctx, w.Tx, id, run.CompleteTime) })
}

// writeFile writes the run's payment file into the payment folder,
// atomically (a rename), from the stored payments.
func (p *paymentRunner) writeFile(ctx context.Context, run domain.PaymentRun) error {
	if err := os.MkdirAll(p.dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(p.dir, ".pain001-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := paymentFile(ctx, p.store, p.debtor, run, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(p.dir, "pain001-"+run.MessageID()+".xml"))
}

// paymentFile writes the run's pain.001 document to w from the stored
// payments, one at a time.
func paymentFile(ctx context.Context, st *store.Store, debtor domain.Debtor, run domain.PaymentRun, w io.Writer) error {
	return st.Payments(ctx, run.ID, func(next func() (domain.Payment, bool, error)) error {
		return domain.WritePain001(w, run, debtor, run.ClaimCount, run.TotalOre, next)
	})
}

// retentionJob names the job's lease.
const retentionJob = "claim-retention"

// retentionBatch is how many claims one transaction anonymises.
const retentionBatch = 500

// retention removes the dossier numbers of finished claims past the
// retention window (storage limitation, GDPR art. 5(1)(e)). It runs at most
// once per period across every replica sharing the database: a replica
// takes the job's lease in the database, and the lease remembers when the
// job last completed. Payments keep what bookkeeping needs (amount, date,
// payee id of the payment file, which is an accounting record).
type retention struct {
	store  *store.Store
	units  *uow.Runner
	clock  clock.Clock
	log    *slog.Logger
	window time.Duration
	every  time.Duration
	holder string
}

// Run tries the job at start and then every tenth of its period (so that
// when the replica that ran it goes away another takes over in time), until
// ctx ends.
func (r *retention) Run(ctx context.Context) {
	t := time.NewTicker(max(r.every/10, time.Minute))
	defer t.Stop()
	for {
		if _, err := r.Once(ctx); err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "claim retention", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once anonymises the expired claims unless another replica holds the job
// or it ran less than a period ago. It returns how many claims it
// anonymised, or -1 when it did not run.
func (r *retention) Once(ctx context.Context) (int, error) {
	now := r.clock.Now()
	var run bool
	err := r.units.Do(ctx, func(w *uow.Work) error {
		held, last, err := store.AcquireLease(ctx, w.Tx, retentionJob, r.holder, now, now.Add(15*time.Minute))
		run = held && (last.IsZero() || now.Sub(last) >= r.every)
		return err
	})
	if err != nil || !run {
		return -1, err
	}
	cutoff := now.Add(-r.window)
	total, err := r.units.Sweep(ctx, retentionBatch, func(w *uow.Work) (int, error) {
		claims, err := store.ExpiredClaims(ctx, w.Tx, cutoff, retentionBatch)
		if err != nil {
			return 0, err
		}
		names, dossiers := make([]string, len(claims)), make([]string, len(claims))
		for i, c := range claims {
			if err := store.AnonymiseClaim(ctx, w.Tx, c.ID); err != nil {
				return 0, err
			}
			names[i], dossiers[i] = c.Name(), c.Dossier
		}
		return len(claims), w.AuditEach(audit.OpAnonymise, names, dossiers)
	})
	if err != nil || ctx.Err() != nil {
		return total, err
	}
	err = r.units.Do(ctx, func(w *uow.Work) error {
		if err := store.AnonymiseParticipationEnds(ctx, w.Tx); err != nil {
			return err
		}
		return store.FinishLease(ctx, w.Tx, retentionJob, r.holder, now)
	})
	if total > 0 {
		r.log.InfoContext(ctx, "claims anonymised", "count", total)
	}
	return total, err
}
