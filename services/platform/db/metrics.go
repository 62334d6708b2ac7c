package db

import (
	"context"

	"github.com/jmoiron/sqlx"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// RegisterPoolMetrics reports d's connection pool (sql.DBStats) for service
// with the global meter provider: connections open, in use and idle
// (tia_db_connections{state}), the most allowed (tia_db_connections_max),
// and how often and how long calls waited for a connection
// (tia_db_connection_waits_total, tia_db_connection_wait_seconds_total).
// Call the returned function to stop.
func RegisterPoolMetrics(d *sqlx.DB, service string) (unregister func() error, err error) {
	m := otel.Meter("github.com/tia-platform/tia/services/platform/db")
	conns, err := m.Int64ObservableGauge("tia.db.connections",
		metric.WithDescription("Database connections of the pool, by state (in_use, idle)."), metric.WithUnit("{connection}"))
	if err != nil {
		return nil, err
	}
	maxOpen, err := m.Int64ObservableGauge("tia.db.connections_max",
		metric.WithDescription("Most database connections the pool opens (0: unbounded)."), metric.WithUnit("{connection}"))
	if err != nil {
		return nil, err
	}
	waits, err := m.Int64ObservableCounter("tia.db.connection_waits",
		metric.WithDescription("Calls that waited for a free database connection."), metric.WithUnit("{wait}"))
	if err != nil {
		return nil, err
	}
	waited, err := m.Float64ObservableCounter("tia.db.connection_wait",
		metric.WithDescription("Total time calls waited for a free database connection."), metric.WithUnit("s"))
	if err != nil {
		return nil, err
	}
	svc := attribute.String("service", service)
	inUse := metric.WithAttributes(svc, attribute.String("state", "in_use"))
	idle := metric.WithAttributes(svc, attribute.String("state", "idle"))
	attrs := metric.WithAttributes(svc)
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := d.Stats()
		o.ObserveInt64(conns, int64(st.InUse), inUse)
		o.ObserveInt64(conns, int64(st.Idle), idle)
		o.ObserveInt64(maxOpen, int64(st.MaxOpenConnections), attrs)
		o.ObserveInt64(waits, st.WaitCount, attrs)
		o.ObserveFloat64(waited, st.WaitDuration.Seconds(), attrs)
		return nil
	}, conns, maxOpen, waits, waited)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
