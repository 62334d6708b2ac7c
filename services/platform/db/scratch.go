package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// CreateDatabase creates an empty PostgreSQL database named prefix and
// random hex digits on the server of adminDSN, whose own database is only
// used to issue CREATE and DROP DATABASE, and returns the new database's
// DSN. drop removes the database, ending the connections still open to it,
// and disconnects from the server. Tests and benches use it for a database
// of their own that no other run sees.
func CreateDatabase(ctx context.Context, adminDSN, prefix string) (dsn string, drop func() error, err error) {
	u, err := url.Parse(adminDSN)
	if err != nil {
		return "", nil, fmt.Errorf("create database: parse DSN: %w", err)
	}
	admin, err := sql.Open(driverPgx, adminDSN)
	if err != nil {
		return "", nil, fmt.Errorf("create database: open postgres: %w", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails; see crypto/rand.Read
	// Lower-case hex, which PostgreSQL accepts unquoted and does not
	// case-fold, so interpolating it is safe and the name in the DSN is the
	// created one (prefix is the caller's constant).
	name := prefix + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return u.String(), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE (PostgreSQL 13+) terminates the connections the user of the
		// database may have left open.
		_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		if err != nil {
			err = fmt.Errorf("drop database %s: %w", name, err)
		}
		return errors.Join(err, admin.Close())
	}, nil
}
