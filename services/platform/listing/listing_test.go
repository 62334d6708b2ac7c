package listing

import (
	"slices"
	"strings"
	"testing"

	"go.einride.tech/aip/pagination"

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

func TestPageTokensCannotBeForged(t *testing.T) {
	req := &activityv1.ListActivitiesRequest{Parent: "organisers/-", PageSize: 2}
	// An unsigned token with a negative offset, as pagination would write it.
	forged := pagination.PageToken{Offset: -1, RequestChecksum: mustChecksum(t, req)}.String()
	for _, tok := range []string{forged, forged + ".AAAAAAAAAAAAAAAAAAAAAA", signToken(forged)[:len(signToken(forged))-1] + "A"} {
		req.PageToken = tok
		if _, err := ParsePage(req); !slices.Equal(badrequest.Fields(err), []string{"page_token"}) {
			t.Errorf("token %q: err = %v, want page_token refused", tok, err)
		}
	}
	// Even a correctly signed negative offset (a key leak) is refused.
	req.PageToken = signToken(forged)
	if _, err := ParsePage(req); err == nil {
		t.Error("negative offset accepted")
	}
}

func mustChecksum(t *testing.T, req *activityv1.ListActivitiesRequest) uint32 {
	t.Helper()
	p, err := ParsePage(req)
	if err != nil {
		t.Fatal(err)
	}
	return p.token.RequestChecksum
}

func TestFilterErrorsSayWhatIsAllowed(t *testing.T) {
	_, err := ParseFilter(&activityv1.ListActivitiesRequest{Filter: `organiser = "organisers/1"`}, fields)
	msg := err.Error()
	for _, want := range []string{`unknown field "organiser"`, "capacity", "kommun_code", "lan_code", "=", "AND"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "undeclared identifier") || strings.Contains(msg, "check call expr") {
		t.Errorf("error %q speaks CEL jargon", msg)
	}
	// The JSON spelling of a field name works too.
	f, err := ParseFilter(&activityv1.ListActivitiesRequest{Filter: `kommunCode = "0180"`}, fields)
	if err != nil || f.SQL != "kommun_code = ?" {
		t.Fatalf("camelCase field: %+v, %v", f, err)
	}
}

func TestFilterValuesChecked(t *testing.T) {
	checked := map[string]Field{"kommun_code": {SQL: "k", Check: Kommun}, "day": {SQL: "d", Kind: Date}, "lan_code": {SQL: "l", Check: Lan}}
	for _, f := range []string{`kommun_code = "9999"`, `day = "2026-02-30"`, `lan_code = "99"`, `kommunCode = "0000" OR kommun_code = "0180"`, `kommun_code != "9999"`, `day > "2026-13-01"`} {
		if _, err := ParseFilter(&activityv1.ListActivitiesRequest{Filter: f}, checked); !slices.Equal(badrequest.Fields(err), []string{"filter"}) {
			t.Errorf("%s: err = %v, want a filter violation", f, err)
		}
	}
	if _, err := ParseFilter(&activityv1.ListActivitiesRequest{Filter: `kommun_code = "0180" AND day >= "2026-02-28"`}, checked); err != nil {
		t.Errorf("valid values refused: %v", err)
	}
}
