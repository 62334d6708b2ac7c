package activity_test

import (
	"context"
	"slices"
	"testing"
	"time"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
)

// TestAnnounceStarts: an activity registered while planned is announced as
// started on its first day, once; one registered while ongoing is not.
func TestAnnounceStarts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e, _ := newSetUpEnv(t, dsn)
		s := e.svc
		ordinance := activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364
		must(s.CreateActivity(as(school), &activityv1.CreateActivityRequest{Parent: "organisers/" + school.Org,
			Activity: act("Redan igång", "0380", 10, "2026-03-01", "2026-12-31", ordinance)}))
		must(s.CreateActivity(as(school), &activityv1.CreateActivityRequest{Parent: "organisers/" + school.Org,
			Activity: act("Planerad", "0381", 15, "2026-03-12", "2026-12-31", ordinance)}))
		started := func() int {
			n := 0
			for _, subj := range e.outbox(t) {
				if subj == activity.SubjectActivityStarted {
					n++
				}
			}
			return n
		}
		announce := func(day time.Time) {
			activity.SetClock(s, func() time.Time { return day })
			for range 2 {
				if err := s.AnnounceStarts(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		}
		announce(time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC))
		if n := started(); n != 0 {
			t.Fatalf("%d starts announced the day before, want 0", n)
		}
		announce(time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC))
		announce(time.Date(2026, 3, 13, 9, 0, 0, 0, time.UTC))
		if n := started(); n != 1 {
			t.Fatalf("%d starts announced, want 1 (subjects %v)", n, e.outbox(t))
		}
		if !slices.Contains(e.outbox(t), activity.SubjectActivityRegistered) {
			t.Fatal("registrations missing from the outbox")
		}
	})
}
