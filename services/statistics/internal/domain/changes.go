package domain

import (
	"fmt"
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
	if housingIndex(c.Housing) < 0 {
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
	Suppressed          bool
}

// Project adds to the per-kommun totals of the snapshot taken on
// snapshotDate the planned changes that take effect after it and on or
// before projectionDate. A kommun never goes below 0. It returns one row per
// kommun with people or changes, and the totals per län and for the nation
// (LanCode ""). With protect, snapshot counts are withheld by disclosure
// control across kommuner and totals, and a projected count with them (the
// planned changes are public, so it would give the snapshot count back).
func Project(base []KommunTotal, changes []PlannedChange, snapshotDate, projectionDate string, protect bool) (rows, totals []ProjectionRow) {
	snap := map[string]int64{}
	for _, k := range base {
		snap[k.KommunCode] += k.Adults
	}
	delta := map[string]int64{}
	for _, c := range changes {
		if c.EffectiveDate > snapshotDate && c.EffectiveDate <= projectionDate {
			delta[c.KommunCode] += c.AdultsDelta
			if _, ok := snap[c.KommunCode]; !ok {
				snap[c.KommunCode] = 0
			}
		}
	}
	h := NewHierarchy(snap)
	var sup []bool
	if protect {
		sup = h.Suppress()
	}
	nK := len(h.Kommuner)
	lanDelta := map[string]int64{}
	var nationDelta int64
	for i, k := range h.Kommuner {
		d := delta[k]
		lanDelta[LanOf(k)] += d
		nationDelta += d
		rows = append(rows, projectionRow(LanOf(k), k, h.Values[i], d, sup, i))
	}
	for i, l := range h.Lans {
		totals = append(totals, projectionRow(l, "", h.Values[nK+i], lanDelta[l], sup, nK+i))
	}
	totals = append(totals, projectionRow("", "", h.Values[len(h.Values)-1], nationDelta, sup, len(h.Values)-1))
	return rows, totals
}

func projectionRow(lan, kommun string, base, delta int64, sup []bool, i int) ProjectionRow {
	r := ProjectionRow{LanCode: lan, KommunCode: kommun, SnapshotCount: base, PlannedDelta: delta, Projected: max(0, base+delta)}
	if sup != nil && sup[i] {
		r.SnapshotCount, r.Projected, r.Suppressed = 0, 0, true
	}
	return r
}

// ChangeRow is one kommun's (län's, nation's) change between two snapshots.
type ChangeRow struct {
	LanCode, KommunCode          string
	From, To, Change             int64
	FromSuppressed, ToSuppressed bool
	ChangeSuppressed             bool
}

// Compare gives the change per kommun between two snapshots' per-kommun
// totals, with län and national totals. With protect, each snapshot's
// counts are withheld by disclosure control, and the change wherever either
// count is (it would give the withheld one back).
func Compare(from, to []KommunTotal, protect bool) (rows, totals []ChangeRow) {
	f, t := map[string]int64{}, map[string]int64{}
	for _, k := range from {
		f[k.KommunCode] += k.Adults
		t[k.KommunCode] += 0
	}
	for _, k := range to {
		t[k.KommunCode] += k.Adults
		f[k.KommunCode] += 0
	}
	hf, ht := NewHierarchy(f), NewHierarchy(t)
	var sf, st []bool
	if protect {
		sf, st = hf.Suppress(), ht.Suppress()
	}
	row := func(lan, kommun string, i int) ChangeRow {
		r := ChangeRow{LanCode: lan, KommunCode: kommun, From: hf.Values[i], To: ht.Values[i]}
		r.Change = r.To - r.From
		if protect {
			r.FromSuppressed, r.ToSuppressed = sf[i], st[i]
			r.ChangeSuppressed = sf[i] || st[i]
			if r.FromSuppressed {
				r.From = 0
			}
			if r.ToSuppressed {
				r.To = 0
			}
			if r.ChangeSuppressed {
				r.Change = 0
			}
		}
		return r
	}
	nK := len(hf.Kommuner)
	for i, k := range hf.Kommuner {
		rows = append(rows, row(LanOf(k), k, i))
	}
	for i, l := range hf.Lans {
		totals = append(totals, row(l, "", nK+i))
	}
	totals = append(totals, row("", "", len(hf.Values)-1))
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
