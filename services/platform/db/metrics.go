package db

import (
	"context"

	"github.com/jmoiron/sqlx"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tia-platform/tia/services/platform/telemetry/observe"
)

// RegisterPoolMetrics reports d's connection pool (sql.DBStats) for service
// with the global meter provider: connections open, in use and idle
// (tia_db_connections{state}), the most allowed (tia_db_connections_max),
// and how often and how long calls waited for a connection
// (tia_db_connection_waits_total, tia_db_connection_wait_seconds_total).
// Call the returned function to stop.
func RegisterPoolMetrics(d *sqlx.DB, service string) (unregister func() error, err error) {
	set := observe.New(otel.Meter("github.com/tia-platform/tia/services/platform/db"))
	conns := set.Int64Gauge("tia.db.connections", "Database connections of the pool, by state (in_use, idle).", "{connection}")
	maxOpen := set.Int64Gauge("tia.db.connections_max", "Most database connections the pool opens (0: unbounded).", "{connection}")
	waits := set.Int64Counter("tia.db.connection_waits", "Calls that waited for a free database connection.", "{wait}")
	waited := set.Float64Counter("tia.db.connection_wait", "Total time calls waited for a free database connection.", "s")
	svc := attribute.String("service", service)
	inUse := metric.WithAttributes(svc, attribute.String("state", "in_use"))
	idle := metric.WithAttributes(svc, attribute.String("state", "idle"))
	attrs := metric.WithAttributes(svc)
	return set.Register(func(_ context.Context, o metric.Observer) error {
		st := d.Stats()
		o.ObserveInt64(conns, int64(st.InUse), inUse)
		o.ObserveInt64(conns, int64(st.Idle), idle)
		o.ObserveInt64(maxOpen, int64(st.MaxOpenConnections), attrs)
		o.ObserveInt64(waits, st.WaitCount, attrs)
		o.ObserveFloat64(waited, st.WaitDuration.Seconds(), attrs)
		return nil
	})
}
