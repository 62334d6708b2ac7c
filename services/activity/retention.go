package activity

import (
	"context"

	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/uow"
)

// retentionBatch is how many certificates one transaction anonymises, so a
// first run over years of certificates never holds one long transaction.
const retentionBatch = 500

// ApplyRetention removes the dossier numbers of certificates whose activity
// ended more than the configured retention ago (GDPR art. 5(1)(e)): the
// certificate stays (activity, kommun, dates, participation), so the coverage
// picture, utilisation and every count keep working; only the person is gone.
// Each removal appends an "anonymise" entry to the audit trail. It runs once
// a day however many replicas run: the day is claimed in the transaction of
// the first batch, and the batches after it only find what is left. It
// returns how many certificates it anonymised.
func (s *Service) ApplyRetention(ctx context.Context) (int, error) {
	today := s.clock.Today()
	day, err := clock.ParseDate(today)
	if err != nil {
		return 0, err
	}
	cutoff := day.AddDate(0, 0, -s.retention).Format(clock.DateLayout)
	first := true
	return s.units.Sweep(ctx, retentionBatch, func(w *uow.Work) (int, error) {
		if first {
			ok, err := store.ClaimRun(ctx, w.Tx, "certificate-retention", today)
			if err != nil || !ok {
				return 0, err
			}
			first = false
		}
		expired, err := store.ExpiredCertificates(ctx, w.Tx, cutoff, retentionBatch)
		if err != nil {
			return 0, err
		}
		now := s.clock.Now()
		names, dossiers := make([]string, len(expired)), make([]string, len(expired))
		for i, c := range expired {
			if err := store.Anonymise(ctx, w.Tx, c, now); err != nil {
				return 0, err
			}
			names[i], dossiers[i] = c.Name(), c.Dossier
		}
		return len(expired), w.AuditEach(audit.OpAnonymise, names, dossiers)
	})
}
