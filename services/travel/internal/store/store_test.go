package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/app/apptest"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// testStore is the store with a way to write: a transaction per call.
type testStore struct {
	*store.Store
	db *sqlx.DB
}

// Create inserts r in a transaction of its own.
func (s testStore) Create(ctx context.Context, r domain.Route) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error { return store.CreateRoute(ctx, tx, r) })
}

// open migrates the database at dsn as the host does for the travel
// component and returns a store on it.
func open(t *testing.T, dsn string) testStore {
	t.Helper()
	d := apptest.Deps(t, app.Component{Name: "travel", Migrations: store.Migrations}, dsn).DB
	return testStore{store.New(d), d}
}

func route(t *testing.T, id, from, to, validFrom, validTo string) domain.Route {
	t.Helper()
	r := domain.Route{ID: id, FromKommunCode: from, ToKommunCode: to, ValidFrom: validFrom, ValidTo: validTo, Reason: "samråd " + id}
	if err := r.Normalize(); err != nil {
		t.Fatal(err)
	}
	r.CreateTime = time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	return r
}

func TestCreateGet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		r := route(t, "r1", "2582", "2580", "2026-01-01", "2026-12-31")
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		if got != r {
			t.Fatalf("Get = %+v, want %+v", got, r)
		}
		if _, err := s.Get(ctx, "r2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get unknown: %v", err)
		}
		// A second route with the same id fails as a whole: no stray ends
		// make it show up under its kommuner.
		dup := route(t, "r1", "0180", "0184", "2026-01-01", "2026-12-31")
		if err := s.Create(ctx, dup); !db.IsUniqueViolation(err) {
			t.Fatalf("duplicate id: err = %v", err)
		}
		if ids := list(t, s, `kommun_code = "0184"`, 0); len(ids) != 0 {
			t.Fatalf("failed create left ends behind: %v", ids)
		}
	})
}

func list(t *testing.T, s testStore, filter string, size int32) []string {
	t.Helper()
	req := &travelv1.ListRoutesRequest{Filter: filter, PageSize: size}
	f, err := listing.ParseFilter(req, store.FilterFields)
	if err != nil {
		t.Fatal(err)
	}
	p, err := listing.ParsePage(req)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := s.List(context.Background(), f, p)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range routes {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		for _, r := range []domain.Route{
			route(t, "r1", "2582", "2580", "2026-01-01", "2026-12-31"), // Boden → Luleå
			route(t, "r2", "2580", "2584", "2026-03-01", "2026-05-31"), // Luleå → Kiruna
			route(t, "r3", "0184", "0180", "2025-01-01", "2025-12-31"), // Solna → Stockholm
			route(t, "r4", "2584", "2582", "2026-06-01", "2026-08-31"), // Kiruna → Boden
		} {
			if err := s.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			filter string
			want   []string
		}{
			{"", []string{"r1", "r2", "r3", "r4"}},
			{`kommun_code = "2580"`, []string{"r1", "r2"}},
			{`kommun_code = "0180"`, []string{"r3"}},
			{`kommun_code = "1280"`, nil},
			{`NOT kommun_code = "2580"`, []string{"r3", "r4"}},
			{`kommun_code = "2584" AND kommun_code = "2582"`, []string{"r4"}},
			{`kommun_code = "0180" OR kommun_code = "2584"`, []string{"r2", "r3", "r4"}},
			{`kommun_code >= "2500"`, []string{"r1", "r2", "r4"}},
			{`from_kommun_code = "2580"`, []string{"r2"}},
			{`to_kommun_code = "2580"`, []string{"r1"}},
			// Valid on 2026-04-15, touching Luleå.
			{`kommun_code = "2580" AND valid_from <= "2026-04-15" AND valid_to >= "2026-04-15"`, []string{"r1", "r2"}},
			{`valid_to < "2026-01-01"`, []string{"r3"}},
		}
		for _, tt := range tests {
			if got := list(t, s, tt.filter, 0); !slices.Equal(got, tt.want) {
				t.Errorf("filter %q = %v, want %v", tt.filter, got, tt.want)
			}
		}
		// The store fetches one row more than the page, for listing.Trim.
		if got := list(t, s, `kommun_code = "2582"`, 1); !slices.Equal(got, []string{"r1", "r4"}) {
			t.Errorf("page of 1 = %v", got)
		}
	})
}
