package domain

import (
	"fmt"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// Dimension is what a query can group by.
type Dimension string

// Dimensions.
const (
	DimLan     Dimension = "lan"
	DimKommun  Dimension = "kommun"
	DimHousing Dimension = "housing_type"
	DimSex     Dimension = "sex"
	DimAgeBand Dimension = "age_band"
)

// Query asks for the sums of one snapshot's cells, filtered and grouped.
type Query struct {
	ReferenceDate string
	// LanCodes and KommunCodes keep only cells in these places; empty means
	// all. Both may be given, and a cell must then match both.
	LanCodes    []string
	KommunCodes []string
	// GroupBy are the dimensions to group by; one grand total when empty.
	GroupBy []Dimension
}

// Row is the sum of one group. The dimensions not grouped by are empty.
type Row struct {
	LanCode    string
	KommunCode string
	Housing    HousingType
	Sex        Sex
	AgeBand    AgeBand
	Count      int64
}

// Validate checks the filters and groupings. Unknown codes are refused
// rather than matching nothing, so a typo shows up as an error instead of
// as an empty kommun. Field paths are relative to the query request.
func (q Query) Validate() error {
	var v badrequest.Violations
	for i, c := range q.LanCodes {
		if _, ok := refdata.LanByCode(c); !ok {
			v.Add(fmt.Sprintf("lan_codes[%d]", i), "unknown län code "+quote(c))
		}
	}
	for i, c := range q.KommunCodes {
		k, ok := refdata.KommunByCode(c)
		switch {
		case !ok:
			v.Add(fmt.Sprintf("kommun_codes[%d]", i), "unknown kommun code "+quote(c))
		case len(q.LanCodes) > 0 && !contains(q.LanCodes, k.LanCode):
			// Both filters must match, so this kommun could only ever give
			// an empty answer: more likely a mistake than a question.
			v.Add(fmt.Sprintf("kommun_codes[%d]", i), fmt.Sprintf("kommun %s is in län %s, which lan_codes leaves out", c, k.LanCode))
		}
	}
	seen := map[Dimension]bool{}
	for i, d := range q.GroupBy {
		field := fmt.Sprintf("group_by[%d]", i)
		switch {
		case d == "":
			v.Add(field, "missing or unknown")
		case seen[d]:
			v.Add(field, "repeats a dimension")
		}
		seen[d] = true
	}
	return v.Err()
}

// Total is the sum of rows.
func Total(rows []Row) int64 {
	var t int64
	for _, r := range rows {
		t += r.Count
	}
	return t
}
