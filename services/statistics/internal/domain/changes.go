package domain

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// PlannedChange is an accommodation opening or closing that Migrationsverket
// has registered: from EffectiveDate, AdultsDelta more (or fewer) adults are
// expected in the kommun.
type PlannedChange struct {
	ID            string
	KommunCode    string
	LanCode       string
	Housing       HousingType
	EffectiveDate string
	AdultsDelta   int64
	Description   string
	CreateTime    time.Time
}

// Name is the change's resource name.
func (c PlannedChange) Name() string { return "plannedChanges/" + c.ID }

// Validate checks a change and fills its län. Field paths are relative to
// the change.
func (c *PlannedChange) Validate() error {
	var v badrequest.Violations
	if k, ok := refdata.KommunByCode(c.KommunCode); ok {
		c.LanCode = k.LanCode
	} else {
		v.Add("kommun_code", unknownOrMissing("kommun code", c.KommunCode))
	}
	if !slices.Contains(HousingTypes, c.Housing) {
		v.Add("housing_type", "missing or unknown")
	}
	if !IsDate(c.EffectiveDate) {
		v.Add("effective_date", "must be a real date, YYYY-MM-DD")
	}
	switch {
	case c.AdultsDelta == 0:
		v.Add("adults_delta", "must not be 0: positive for an opening, negative for a closing")
	case c.AdultsDelta > 100_000 || c.AdultsDelta < -100_000:
		v.Add("adults_delta", "must be between -100000 and 100000")
	}
	return v.Err()
}

// ProjectionRow is one kommun's (or län's, or the nation's) projection.
type ProjectionRow struct {
	LanCode, KommunCode string
	SnapshotCount       int64
	PlannedDelta        int64
	Projected           int64
}

// Project adds to the figures of the snapshot taken on snapshotDate the
// planned changes that take effect after it and on or before
// projectionDate. A figure never goes below 0. It returns one row per
// kommun with people or changes, and the totals per län and for the whole
// selection (LanCode ""). The projected figure of a published snapshot
// figure carries that figure's noise (the noise its cell key gives): the
// planned changes are public, so projected minus snapshot is exactly the
// change, and a projection tells nothing the snapshot does not.
func Project(base Figures, changes []PlannedChange, snapshotDate, projectionDate string) (rows, totals []ProjectionRow) {
	delta := map[string]int64{}
	kommuner := map[string]bool{}
	for k := range base.Kommun {
		kommuner[k] = true
	}
	for _, c := range changes {
		if c.EffectiveDate > snapshotDate && c.EffectiveDate <= projectionDate {
			delta[c.KommunCode] += c.AdultsDelta
			kommuner[c.KommunCode] = true
		}
	}
	lanDelta := map[string]int64{}
	lans := map[string]bool{}
	var allDelta int64
	for _, k := range slices.Sorted(maps.Keys(kommuner)) {
		d := delta[k]
		lanDelta[LanOf(k)] += d
		lans[LanOf(k)] = true
		allDelta += d
		rows = append(rows, projectionRow(LanOf(k), k, base.Kommun[k], d))
	}
	for l := range base.Lan {
		lans[l] = true
	}
	for _, l := range slices.Sorted(maps.Keys(lans)) {
		totals = append(totals, projectionRow(l, "", base.Lan[l], lanDelta[l]))
	}
	totals = append(totals, projectionRow("", "", base.All, allDelta))
	return rows, totals
}

func projectionRow(lan, kommun string, base, delta int64) ProjectionRow {
	return ProjectionRow{LanCode: lan, KommunCode: kommun, SnapshotCount: base, PlannedDelta: delta, Projected: max(0, base+delta)}
}

// ChangeRow is one kommun's (län's, nation's) change between two snapshots.
type ChangeRow struct {
	LanCode, KommunCode string
	From, To, Change    int64
}

// Compare gives the change per kommun between two snapshots' figures, with
// län and overall totals. With published figures the change is the
// difference of the published ones, so it tells nothing they do not.
func Compare(from, to Figures) (rows, totals []ChangeRow) {
	kommuner, lans := map[string]bool{}, map[string]bool{}
	for _, f := range []Figures{from, to} {
		for k := range f.Kommun {
			kommuner[k] = true
		}
		for l := range f.Lan {
			lans[l] = true
		}
	}
	row := func(lan, kommun string, f, t int64) ChangeRow {
		return ChangeRow{LanCode: lan, KommunCode: kommun, From: f, To: t, Change: t - f}
	}
	for _, k := range slices.Sorted(maps.Keys(kommuner)) {
		rows = append(rows, row(LanOf(k), k, from.Kommun[k], to.Kommun[k]))
	}
	for _, l := range slices.Sorted(maps.Keys(lans)) {
		totals = append(totals, row(l, "", from.Lan[l], to.Lan[l]))
	}
	totals = append(totals, row("", "", from.All, to.All))
	return rows, totals
}

// CheckProjectionDate refuses a projection date before the snapshot.
func CheckProjectionDate(date, snapshotDate string) error {
	if !IsDate(date) {
		return badrequest.Field("projection_date", "must be a real date, YYYY-MM-DD")
	}
	if date < snapshotDate {
		return badrequest.Field("projection_date", fmt.Sprintf("must not be before the latest snapshot, %s", snapshotDate))
	}
	return nil
}
