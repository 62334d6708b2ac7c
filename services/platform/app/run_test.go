package app

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tia-platform/tia/services/platform/db/dbtest"
)

// TestMigrateOnly: -migrate-only applies the migrations and returns without
// NATS, a token key or a listener.
func TestMigrateOnly(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "m.db")
	migrations := oneTable("migrated")
	c := Component{Name: "mtest", Migrations: migrations, New: func(Deps) (Service, error) { return noService{}, nil }}
	ctx := context.Background()
	if err := Run(ctx, c, []string{"-migrate-only", "-database-dsn", dsn, "-nats-url", "nats://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	d := dbtest.Open(t, dsn)
	if _, err := d.ExecContext(ctx, "INSERT INTO migrated (id) VALUES ('x')"); err != nil {
		t.Errorf("the migration did not run: %v", err)
	}
}

func TestSplitAddrs(t *testing.T) {
	if got := splitAddrs(" a:1, b:2 ,,"); len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Errorf("splitAddrs = %q", got)
	}
	cc, err := Dial("127.0.0.1:1,127.0.0.1:2")
	if err != nil {
		t.Fatal(err)
	}
	cc.Close()
}
