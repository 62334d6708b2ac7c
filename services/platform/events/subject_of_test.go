package events

import (
	"testing"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
)

func TestSubjectOf(t *testing.T) {
	for msg, want := range map[string]string{
		SubjectOf(&activityv1.ActivityRegistered{}):    "tia.activity.ActivityRegistered",
		SubjectOf(&statisticsv1.SnapshotPublished{}):   "tia.statistics.SnapshotPublished",
		TypeOf(&statisticsv1.SnapshotPublished{}):      "tia.statistics.v1.SnapshotPublished",
		subjectOf("tia.travel.v12.RouteDecided"):       "tia.travel.RouteDecided",
		subjectOf("tia.notification.v1beta.Something"): "tia.notification.v1beta.Something",
	} {
		if msg != want {
			t.Errorf("got %s, want %s", msg, want)
		}
	}
}
