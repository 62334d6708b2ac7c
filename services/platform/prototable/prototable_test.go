package prototable_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/platform/prototable"
)

// TestNeutralise: cells a spreadsheet would evaluate get an apostrophe;
// numbers, negative and decimal ones included, stay numbers.
func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+cmd": "'+cmd", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"-": "'-", "+": "'+", "-3": "-3", "-3.5": "-3.5", "-3,5": "-3,5", "+46": "+46", "3": "3", "0180": "0180",
		"a=b": "a=b", "": "", "1-2": "1-2", "-1e5": "'-1e5", "-0x1": "'-0x1", "-3.": "'-3.", "-.5": "'-.5",
		"Nytt boende": "Nytt boende",
	} {
		if got := prototable.Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLines: the fields of the row type in field order, a singular one
// when set; others false leaves the other lists out but keeps the singular
// fields.
func TestLines(t *testing.T) {
	kinds := func(lines []prototable.Line) string {
		var out []string
		for _, l := range lines {
			out = append(out, string(l.Field.Name()))
		}
		return strings.Join(out, " ")
	}
	cov := &activityv1.Coverage{Total: &activityv1.KommunCoverage{}, Kommuner: []*activityv1.KommunCoverage{{}, {}}}
	m := cov.ProtoReflect()
	sources, lines := prototable.Lines(m, m.Descriptor().Fields().ByName("kommuner"), true)
	if len(sources) != 2 || kinds(lines) != "total kommuner kommuner" {
		t.Errorf("coverage: %d sources, lines %q", len(sources), kinds(lines))
	}
	if lines[1].Row.Interface() != cov.Kommuner[0] {
		t.Error("a line is not the element itself")
	}
	cov.Total = nil
	if _, lines := prototable.Lines(m, m.Descriptor().Fields().ByName("kommuner"), true); kinds(lines) != "kommuner kommuner" {
		t.Errorf("coverage without a total: lines %q", kinds(lines))
	}

	q := (&statisticsv1.QuerySnapshotResponse{Rows: []*statisticsv1.QueryRow{{}}, Subtotals: []*statisticsv1.QueryRow{{}}}).ProtoReflect()
	for _, c := range []struct {
		list    protoreflect.Name
		others  bool
		sources int
		lines   string
	}{
		{"rows", true, 2, "rows subtotals"},
		{"rows", false, 1, "rows"},
		{"subtotals", false, 1, "subtotals"},
	} {
		sources, lines := prototable.Lines(q, q.Descriptor().Fields().ByName(c.list), c.others)
		if len(sources) != c.sources || kinds(lines) != c.lines {
			t.Errorf("%s, others %v: %d sources, lines %q; want %d, %q", c.list, c.others, len(sources), kinds(lines), c.sources, c.lines)
		}
	}
}
