package db_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
)

// TestCreateDatabase: the database is new and empty, named with the
// prefix, usable, and gone once dropped even with a connection left open.
func TestCreateDatabase(t *testing.T) {
	ctx := context.Background()
	admin := os.Getenv(dbtest.EnvPostgresDSN)
	if admin == "" {
		admin = dbtest.DefaultPostgresDSN
	}
	dsn, drop, err := db.CreateDatabase(ctx, admin, "scratch_")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dsn, "/scratch_") {
		t.Errorf("DSN %q does not name a scratch_ database", dsn)
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var tables int
	if err := d.GetContext(ctx, &tables, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("new database has %d tables, want none", tables)
	}
	if _, err := d.ExecContext(ctx, "CREATE TABLE t (id int)"); err != nil {
		t.Fatal(err)
	}
	if err := drop(); err != nil {
		t.Fatalf("drop with a connection open: %v", err)
	}
	if _, err := db.Open(ctx, dsn); err == nil {
		t.Error("the dropped database still opens")
	}
}
