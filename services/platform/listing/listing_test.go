package listing

import (
	"slices"
	"testing"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/badrequest"
)

var fields = map[string]Field{
	"kommun_code": {SQL: "kommun_code"},
	"lan_code":    {SQL: "lan_code"},
	"capacity":    {SQL: "capacity", Int: true},
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		filter  string
		sql     string
		args    []any
		invalid bool
	}{
		{filter: "", sql: "1=1"},
		{filter: `kommun_code = "0180"`, sql: "kommun_code = ?", args: []any{"0180"}},
		{filter: `kommun_code = "0180" AND capacity > 10`, sql: "(kommun_code = ? AND capacity > ?)", args: []any{"0180", int64(10)}},
		{filter: `lan_code = "01" OR lan_code = "03"`, sql: "(lan_code = ? OR lan_code = ?)", args: []any{"01", "03"}},
		{filter: `NOT lan_code = "01"`, sql: "NOT lan_code = ?", args: []any{"01"}},
		{filter: `owner = "x"`, invalid: true},
		{filter: `kommun_code = `, invalid: true},
		{filter: `capacity = "ten"`, invalid: true},
		{filter: `"0180" = kommun_code`, invalid: true},
		{filter: `kommun_code`, invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := ParseFilter(&activityv1.ListActivitiesRequest{Filter: tt.filter}, fields)
			if tt.invalid {
				if got := badrequest.Fields(err); !slices.Equal(got, []string{"filter"}) {
					t.Fatalf("err = %v, want a violation of filter", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.SQL != tt.sql || !slices.Equal(f.Args, tt.args) {
				t.Fatalf("got %q %v, want %q %v", f.SQL, f.Args, tt.sql, tt.args)
			}
		})
	}
}

func TestPages(t *testing.T) {
	req := &activityv1.ListActivitiesRequest{Parent: "organisers/-", PageSize: 2}
	p, err := ParsePage(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, next := Trim(p, []int{1, 2, 3})
	if !slices.Equal(rows, []int{1, 2}) || next == "" {
		t.Fatalf("first page = %v, %q", rows, next)
	}
	req.PageToken = next
	p, err = ParsePage(req)
	if err != nil || p.Offset != 2 {
		t.Fatalf("second page = %+v, %v", p, err)
	}
	if rows, next := Trim(p, []int{3}); len(rows) != 1 || next != "" {
		t.Fatalf("last page = %v, %q", rows, next)
	}
	// A token does not carry over to a request with another filter.
	req.Filter = `kommun_code = "0180"`
	if _, err := ParsePage(req); !slices.Equal(badrequest.Fields(err), []string{"page_token"}) {
		t.Fatalf("err = %v", err)
	}
	if _, err := ParsePage(&activityv1.ListActivitiesRequest{PageToken: "garbage"}); err == nil {
		t.Fatal("garbage token accepted")
	}
}
