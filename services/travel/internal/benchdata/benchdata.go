// Package benchdata fills a travel database with approved claims for the
// payment-run benchmark and the crash test, quickly (multi-row inserts),
// bypassing the API: the claims are as the checks would have left them.
package benchdata

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

var kommuner = [][2]string{{"0180", "01"}, {"2580", "25"}, {"1280", "12"}, {"1480", "14"}, {"0380", "03"}}

// InsertApproved inserts n approved claims submitted at submit, spread over
// a few kommuner, and returns the sum of their costs in öre.
func InsertApproved(ctx context.Context, d *sqlx.DB, n int, submit time.Time) (int64, error) {
	const batch = 500
	var total int64
	ts := submit.UTC().Format(store.TimeLayout)
	trip := submit.AddDate(0, 0, -3).Format(domain.DateLayout)
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		var b strings.Builder
		b.WriteString(`INSERT INTO claims (id, dossier, trip_date, from_kommun_code, to_kommun_code, activity, certificate,
			distance_km, cost_ore, ticket_type, state, reasons, decision_reason, lan_code, request_id, submit_time,
			decide_time, pay_time, payment_run) VALUES `)
		args := make([]any, 0, (end-start)*11)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, 8.5, ?, 1, 'APPROVED', '', '', ?, '', ?, ?, '', '')")
			k := kommuner[i%len(kommuner)]
			cost := int64(2000 + i%4000)
			total += cost
			act := fmt.Sprintf("organisers/8020038884/activities/a-%d", i%50)
			args = append(args, uuid.Must(uuid.NewV7()).String(), fmt.Sprintf("%02d-%06d", 10+i%90, i%1000000), trip,
				k[0], k[0], act, act+fmt.Sprintf("/certificates/c-%d", i), cost, k[1], ts, ts)
		}
		if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, tx.Rebind(b.String()), args...)
			return err
		}); err != nil {
			return 0, fmt.Errorf("insert claims: %w", err)
		}
	}
	return total, nil
}
