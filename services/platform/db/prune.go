package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Prune deletes the rows of table whose timestamp column lies more than age
// in the past (and that match where, an SQL condition, when it is not
// empty), in statements of at most batch rows each so that no single delete
// holds locks on a large table for long, until none is left. It returns how
// many rows it deleted. Table, column and where are SQL written in code,
// never input. On SQLite the column must hold the platform's UTC text
// timestamps (strftime('%Y-%m-%d %H:%M:%f', 'now')).
//
// Deletes are idempotent, so replicas may prune the same database at once.
// Services use it for their own retention (e.g. delivered notifications);
// the host prunes the outbox and processed_events with it.
func Prune(ctx context.Context, d *sqlx.DB, table, column, where string, age time.Duration, batch int) (int64, error) {
	if batch <= 0 {
		batch = 1000
	}
	cond := ""
	if where != "" {
		cond = " AND (" + where + ")"
	}
	var query string
	var ageArg any
	if Dialect(d) == DialectPostgres {
		query = fmt.Sprintf(`DELETE FROM %[1]s WHERE ctid = ANY(ARRAY(
			SELECT ctid FROM %[1]s WHERE %[2]s < now() - make_interval(secs => ?)%[3]s LIMIT ?))`, table, column, cond)
		ageArg = age.Seconds()
	} else {
		query = fmt.Sprintf(`DELETE FROM %[1]s WHERE rowid IN (
			SELECT rowid FROM %[1]s WHERE %[2]s < strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', ?)%[3]s LIMIT ?)`, table, column, cond)
		ageArg = fmt.Sprintf("-%.3f seconds", age.Seconds())
	}
	query = d.Rebind(query)
	var total int64
	for {
		res, err := d.ExecContext(ctx, query, ageArg, batch)
		if err != nil {
			return total, fmt.Errorf("prune %s older than %s: %w", table, age, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", table, err)
		}
		total += n
		if n < int64(batch) || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}
