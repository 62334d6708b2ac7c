package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tia-platform/tia/services/platform/db"
)

// Databases creates throw-away PostgreSQL databases on one server, for
// programs that cannot use dbtest (which needs a *testing.T), such as the
// benchmarks. Close drops them.
type Databases struct {
	adminDSN string

	mu    sync.Mutex
	drops []func() error
}

// NewDatabases checks that the server of adminDSN answers; its database is
// only used to issue CREATE and DROP DATABASE.
func NewDatabases(ctx context.Context, adminDSN string) (*Databases, error) {
	admin, err := db.Open(ctx, adminDSN)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	_ = admin.Close()
	return &Databases{adminDSN: adminDSN}, nil
}

// DSN creates a fresh, empty database for service and returns its DSN. It
// has the signature of Options.PostgresDSN.
func (d *Databases) DSN(service string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dsn, drop, err := db.CreateDatabase(ctx, d.adminDSN, "bench_")
	if err != nil {
		return "", fmt.Errorf("cluster: database for %s: %w", service, err)
	}
	d.mu.Lock()
	d.drops = append(d.drops, drop)
	d.mu.Unlock()
	return dsn, nil
}

// Close drops every database DSN created (terminating leftover
// connections).
func (d *Databases) Close() error {
	d.mu.Lock()
	drops := d.drops
	d.drops = nil
	d.mu.Unlock()
	var errs []error
	for _, drop := range drops {
		errs = append(errs, drop())
	}
	return errors.Join(errs...)
}
