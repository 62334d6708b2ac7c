package listing

import (
	"testing"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/badrequest"
)

// FuzzParseFilter: any filter text gives SQL with only bind parameters or a
// field violation on "filter", never a panic.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`kommun_code = "0180"`, `capacity > 10 AND NOT lan_code = "01"`, `a = `, `(((`, `kommunCode = 1`, "x\xff", `lan_code = "01" OR`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		got, err := ParseFilter(&activityv1.ListActivitiesRequest{Filter: filter}, fields)
		if err != nil {
			if fs := badrequest.Fields(err); len(fs) != 1 || fs[0] != "filter" {
				t.Fatalf("error %v does not name the filter", err)
			}
			return
		}
		if len(got.Args) > 0 && got.SQL == "" {
			t.Fatal("arguments without SQL")
		}
	})
}

// FuzzParsePage: no token that this package did not sign is accepted, and
// no accepted token has a negative offset.
func FuzzParsePage(f *testing.F) {
	p, _ := ParsePage(&activityv1.ListActivitiesRequest{PageSize: 1})
	_, next := Trim(p, []int{1, 2})
	for _, s := range []string{"", next, next + "x", "garbage", "a.b", "." + next} {
		f.Add(s, int32(10))
	}
	f.Fuzz(func(t *testing.T, token string, size int32) {
		page, err := ParsePage(&activityv1.ListActivitiesRequest{PageToken: token, PageSize: size})
		if err != nil {
			return
		}
		if page.Offset < 0 || page.Size <= 0 || page.Size > MaxSize {
			t.Fatalf("accepted page %+v", page)
		}
		if token != "" && token != next {
			t.Fatalf("accepted a token this package did not sign: %q", token)
		}
	})
}
