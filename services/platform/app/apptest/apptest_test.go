package apptest

import (
	"testing"
	"testing/fstest"

	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
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
