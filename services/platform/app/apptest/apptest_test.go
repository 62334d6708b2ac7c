package apptest

import (
	"testing"
	"testing/fstest"

	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/pseudonym"
)

func TestDepsMigrates(t *testing.T) {
	c := app.Component{Name: "t", Migrations: fstest.MapFS{"00001_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t (id TEXT);\n")}}}
	d := Deps(t, c, dbtest.NewSQLite(t))
	for _, table := range []string{"t", "outbox", "processed_events"} {
		if _, err := d.DB.Exec("SELECT COUNT(*) FROM " + table); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
	if d.Relay == nil || d.Logger == nil {
		t.Errorf("deps = %+v", d)
	}
}

func TestHostDeps(t *testing.T) {
	c := app.Component{Name: "t", Migrations: fstest.MapFS{"00001_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t (id TEXT);\n")}}}
	d := HostDeps(t, c, dbtest.NewSQLite(t), Key)
	for _, table := range []string{"t", "outbox", "processed_events", "request_ids", "audit_log"} {
		if _, err := d.DB.Exec("SELECT COUNT(*) FROM " + table); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
	if d.Units == nil || d.Audit == nil || d.Pseudonyms == nil {
		t.Errorf("deps = %+v", d)
	}
	k, err := pseudonym.New(Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Pseudonyms.Of("12-345678"), k.Of("12-345678"); got != want {
		t.Errorf("pseudonym %s, want %s (under Key)", got, want)
	}
}
