package cluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/tia-platform/tia/services/platform/db"
)

// Databases creates throw-away PostgreSQL databases on one server, for
// programs that cannot use dbtest (which needs a *testing.T), such as the
// benchmarks. Close drops them.
type Databases struct {
	admin *sql.DB
	base  *url.URL

	mu    sync.Mutex
	names []string
}

// NewDatabases connects to the server of adminDSN; its database is only used
// to issue CREATE and DROP DATABASE.
func NewDatabases(ctx context.Context, adminDSN string) (*Databases, error) {
	u, err := url.Parse(adminDSN)
	if err != nil {
		return nil, fmt.Errorf("cluster: parse PostgreSQL DSN: %w", err)
	}
	admin, err := db.Open(ctx, adminDSN)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return &Databases{admin: admin.DB, base: u}, nil
}

// DSN creates a fresh, empty database for service and returns its DSN. It
// has the signature of Options.PostgresDSN.
func (d *Databases) DSN(service string) (string, error) {
	// Lower-case hex and a fixed prefix: a valid unquoted identifier.
	name := "bench_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("cluster: create database for %s: %w", service, err)
	}
	d.mu.Lock()
	d.names = append(d.names, name)
	d.mu.Unlock()
	u := *d.base
	u.Path = "/" + name
	return u.String(), nil
}

// Close drops every database DSN created (terminating leftover
// connections) and disconnects.
func (d *Databases) Close() error {
	d.mu.Lock()
	names := d.names
	d.names = nil
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, name := range names {
		if _, err := d.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
		}
	}
	errs = append(errs, d.admin.Close())
	return errors.Join(errs...)
}
