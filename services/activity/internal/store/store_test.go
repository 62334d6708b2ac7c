package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/app/apptest"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
)

// open migrates the database at dsn as the host does for the activity
// component and returns a store on it.
func open(t *testing.T, dsn string) *Store {
	t.Helper()
	return New(apptest.Deps(t, app.Component{Name: "activity", Migrations: Migrations}, dsn).DB)
}

// inTx runs fn in one transaction, as a unit of work does.
func inTx(t *testing.T, s *Store, fn func(Tx) error) error {
	t.Helper()
	return db.InTx(context.Background(), s.db, fn)
}

func activity(id, kommun, lan, start, end string, capacity int32) domain.Activity {
	return domain.Activity{Org: "8020038884", ID: id, Title: id, KommunCode: kommun, LanCode: lan,
		Focus: []domain.Focus{domain.FocusSwedish}, Capacity: capacity, StartDate: start, EndDate: end,
		Languages: []string{"sv", "ar"}, CreateTime: time.Now(), UpdateTime: time.Now()}
}

// TestStore checks the registry's SQL on both databases: the aggregates of
// the coverage picture, duplicated routes, certificates following their
// activity's kommun, one renewal per certificate, the catalogue's order and
// filters, and a scheduled report claimed once.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		const day = "2026-03-10"
		for _, a := range []domain.Activity{
			activity("a", "0380", "03", "2026-03-01", "2026-06-30", 10),
			activity("b", "0380", "03", "2026-02-01", "2026-03-10", 5),
			activity("c", "0380", "03", "2026-03-11", "2026-06-30", 7), // planned
			activity("d", "0381", "03", "2026-01-01", "2026-03-09", 9), // ended
			activity("e", "0180", "01", "2026-01-01", "2026-12-31", 3),
		} {
			if err := inTx(t, s, func(tx Tx) error { return s.Create(ctx, tx, a) }); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []domain.Certificate{
			{ID: "1", ActivityID: "a", Participation: domain.ParticipationStarted},
			{ID: "2", ActivityID: "a", Participation: domain.ParticipationDroppedOut, EndDate: "2026-03-09"},
			{ID: "3", ActivityID: "a", Participation: domain.ParticipationNeverStarted, EndDate: "2026-03-02"},
			{ID: "4", ActivityID: "b", Participation: domain.ParticipationIssued},
		} {
			c.Org, c.Dossier, c.ValidFrom, c.ValidTo, c.KommunCode, c.LanCode = "8020038884", "12-00000"+c.ID, "2026-03-01", "2026-05-31", "0380", "03"
			if err := inTx(t, s, func(tx Tx) error { return s.CreateCertificate(ctx, tx, c) }); err != nil {
				t.Fatal(err)
			}
		}
		err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
			for _, r := range []Route{
				{Name: "routes/1", FromKommun: "0381", FromLan: "03", ToKommun: "0380", ValidFrom: "2026-01-01", ValidTo: "2026-12-31"},
				{Name: "routes/2", FromKommun: "0381", FromLan: "03", ToKommun: "0380", ValidFrom: "2026-01-01", ValidTo: "2026-12-31"},
				{Name: "routes/3", FromKommun: "0382", FromLan: "03", ToKommun: "0380", ValidFrom: "2026-04-01", ValidTo: "2026-12-31"},
			} {
				if err := PutRoute(ctx, tx, r); err != nil {
					return err
				}
			}
			return PutSnapshot(ctx, tx, "2026-02-28", "t", []KommunTotal{{KommunCode: "0380", LanCode: "03", Adults: 50}})
		})
		if err != nil {
			t.Fatal(err)
		}

		cov, err := s.Coverage(ctx, "03", day, []string{"0380", "0381", "0382"})
		if err != nil {
			t.Fatal(err)
		}
		u, en, os := cov.Kommuner["0380"], cov.Kommuner["0381"], cov.Kommuner["0382"]
		if u.Activities != 2 || u.Capacity != 15 || u.Participants != 2 || u.Target != 50 || cov.SnapshotDate != "2026-02-28" {
			t.Errorf("Uppsala = %+v", u)
		}
		if en.Activities != 0 || en.RouteActivities != 2 || en.RouteCapacity != 15 {
			t.Errorf("Enköping (two routes to the same kommun count once) = %+v", en)
		}
		if os.RouteActivities != 0 {
			t.Errorf("Östhammar (route not yet valid) = %+v", os)
		}
		with, err := s.KommunerWithActivity(ctx, day, []string{"0180", "0380", "0381", "0382"})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(with)
		if !slices.Equal(with, []string{"0180", "0380"}) {
			t.Errorf("kommuner with activity = %v", with)
		}

		// Moving an activity moves its certificates in the picture.
		a, _ := s.Get(ctx, "8020038884", "b")
		a.KommunCode = "0381"
		if err := inTx(t, s, func(tx Tx) error { return s.Update(ctx, tx, a) }); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.GetCertificate(ctx, "8020038884", "b", "4"); c.KommunCode != "0381" {
			t.Errorf("certificate kommun = %s", c.KommunCode)
		}

		// One renewal per certificate.
		old, _ := s.GetCertificate(ctx, "8020038884", "a", "1")
		n := old
		n.ID, n.Renews, n.ValidFrom = "5", old.Name(), "2026-06-01"
		if err := inTx(t, s, func(tx Tx) error { return s.CreateCertificate(ctx, tx, n) }); err != nil {
			t.Fatal(err)
		}
		n.ID = "6"
		if err := inTx(t, s, func(tx Tx) error { return s.CreateCertificate(ctx, tx, n) }); !errors.Is(err, ErrConflict) {
			t.Errorf("second renewal: %v", err)
		}

		// The catalogue: the kommuner's order, then start date; not ended; by language.
		got, err := s.Catalogue(ctx, CatalogueQuery{Kommuner: []string{"0381", "0380"}, Day: day, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if !slices.Equal(ids, []string{"b", "a", "c"}) {
			t.Errorf("catalogue = %v", ids)
		}
		if got, _ := s.Catalogue(ctx, CatalogueQuery{Kommuner: []string{"0380"}, Day: day, Language: "ti", Limit: 10}); len(got) != 0 {
			t.Errorf("language filter = %v", got)
		}

		// A scheduled report is claimed once.
		for i, want := range []bool{true, false} {
			var ok bool
			err := inTx(t, s, func(tx Tx) (err error) {
				ok, err = ClaimReport(ctx, tx, "03", "2026-02-01", "now")
				return err
			})
			if err != nil || ok != want {
				t.Fatalf("claim %d = %v, %v", i, ok, err)
			}
		}
	})
}

// TestRoutesBothWays: a route decision covers travel in both directions.
func TestRoutesBothWays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		d := s.db
		err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			return PutRoute(ctx, tx, Route{Name: "routes/r", FromKommun: "2582", FromLan: "25", ToKommun: "0180", ValidFrom: "2026-01-01", ValidTo: "2026-12-31"})
		})
		if err != nil {
			t.Fatal(err)
		}
		for from, want := range map[string]string{"2582": "0180", "0180": "2582"} {
			got, err := s.RoutesFrom(ctx, from, "2026-06-01")
			if err != nil || len(got) != 1 || got[0] != want {
				t.Errorf("RoutesFrom(%s) = %v, %v; want [%s]", from, got, err, want)
			}
		}
		if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error { return RevokeRoute(ctx, tx, "routes/r", "2026-03-31") }); err != nil {
			t.Fatal(err)
		}
		for _, from := range []string{"2582", "0180"} {
			if got, _ := s.RoutesFrom(ctx, from, "2026-06-01"); len(got) != 0 {
				t.Errorf("after revocation RoutesFrom(%s) = %v", from, got)
			}
		}
	})
}
