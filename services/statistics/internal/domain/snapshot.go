// Package domain holds the statistics service's rules as plain Go: what makes
// a snapshot of Migrationsverket's figures valid and what a query may ask
// for. It knows nothing of gRPC or SQL.
package domain

import (
	"fmt"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/platform/resname"
	"github.com/tia-platform/tia/services/statistics/internal/ckm"
)

// DateLayout is how reference dates travel in the API and are stored: ISO
// 8601, which also sorts correctly as text.
const DateLayout = "2006-01-02"

// namePrefix starts every snapshot's resource name.
const namePrefix = "snapshots/"

// MaxCells is the most cells one snapshot may have. The full grid of 290
// kommuner × 3 housing types × 2 sexes × 6 age bands is 10,440 cells, so
// this leaves room while keeping one import within one request.
const MaxCells = 100_000

// MaxCount is the largest count one cell may have. It is far above any real
// figure (Sweden has about eight million adults) and keeps every sum of a
// snapshot's cells within int64: two cells of 9223372036854775807 would
// otherwise add up to -2.
const MaxCount = 1_000_000_000

// MaxViolations caps the field violations reported for one import. A file
// with a systematic error (a shifted column, say) would otherwise produce one
// violation per cell, a response too large to read or to send.
const MaxViolations = 20

// HousingType is the boendeform of the people counted, stored as the short
// code Migrationsverket uses.
type HousingType string

// Housing types.
const (
	HousingABE    HousingType = "ABE"    // anläggningsboende
	HousingEBO    HousingType = "EBO"    // eget boende
	HousingOvrigt HousingType = "OVRIGT" // övrigt
)

// Sex as registered.
type Sex string

// Sexes.
const (
	SexKvinna Sex = "kvinna"
	SexMan    Sex = "man"
)

// AgeBand groups adults by age on the reference date.
type AgeBand string

// Age bands.
const (
	Age18to24 AgeBand = "18-24"
	Age25to34 AgeBand = "25-34"
	Age35to44 AgeBand = "35-44"
	Age45to54 AgeBand = "45-54"
	Age55to64 AgeBand = "55-64"
	Age65Plus AgeBand = "65+"
)

// HousingTypes, Sexes and AgeBands list every value, in display order.
var (
	HousingTypes = []HousingType{HousingABE, HousingEBO, HousingOvrigt}
	Sexes        = []Sex{SexKvinna, SexMan}
	AgeBands     = []AgeBand{Age18to24, Age25to34, Age35to44, Age45to54, Age55to64, Age65Plus}
)

// Cell is the number of adults in one combination of the dimensions.
type Cell struct {
	KommunCode string
	// LanCode is derived from the kommun by Normalize; it is stored so that
	// queries by län need no lookup.
	LanCode string
	Housing HousingType
	Sex     Sex
	AgeBand AgeBand
	Count   int64
	// Key is the cell key: the sum of the record keys of the people in the
	// cell, modulo 256 (package ckm).
	Key ckm.Key
}

// key is the combination of dimensions a cell stands for; a snapshot holds
// each at most once, or sums over it would count people twice.
type key struct {
	kommun  string
	housing HousingType
	sex     Sex
	age     AgeBand
}

// Snapshot is the summary of the target group on one reference date.
type Snapshot struct {
	ReferenceDate string
	CellCount     int64
	Total         int64
	ImportTime    time.Time
}

// Name is the snapshot's resource name.
func (s Snapshot) Name() string { return namePrefix + s.ReferenceDate }

// ParseName returns the reference date in a name of the form
// snapshots/{YYYY-MM-DD}. The date must exist, so "2026-02-30" is refused
// even though it has the right shape.
func ParseName(name string) (string, bool) {
	vars, ok := snapshotName.Match(name)
	if !ok || !IsDate(vars[0]) {
		return "", false
	}
	return vars[0], true
}

// snapshotName is the pattern of a snapshot's name.
var snapshotName = resname.New(namePrefix + "{reference_date}")

// IsDate reports whether s is a real calendar date written YYYY-MM-DD.
func IsDate(s string) bool {
	_, err := clock.ParseDate(s)
	return err == nil
}

// NewSnapshot checks cells as the content of the snapshot on referenceDate,
// fills each cell's län, and returns the summary the import will store.
// Field paths in the error are relative to the import request ("cells[3].
// kommun_code"), and at most MaxViolations of them are reported.
func NewSnapshot(referenceDate string, cells []Cell) (Snapshot, error) {
	v := capped{max: MaxViolations}
	if !IsDate(referenceDate) {
		v.add("name", "must be snapshots/{YYYY-MM-DD} with a real date")
	}
	switch {
	case len(cells) == 0:
		// An empty import would silently wipe a snapshot; that is far more
		// likely a broken file than a day with nobody registered.
		v.add("cells", "must not be empty")
	case len(cells) > MaxCells:
		v.add("cells", fmt.Sprintf("at most %d cells per snapshot", MaxCells))
	}
	seen := make(map[key]int, len(cells))
	var total int64
	for i := range cells {
		c := &cells[i]
		at := func(field string) string { return fmt.Sprintf("cells[%d].%s", i, field) }
		if k, ok := refdata.KommunByCode(c.KommunCode); ok {
			c.LanCode = k.LanCode
		} else {
			v.add(at("kommun_code"), "unknown kommun code "+quote(c.KommunCode))
		}
		if c.Housing == "" {
			v.add(at("housing_type"), "missing or unknown")
		}
		if c.Sex == "" {
			v.add(at("sex"), "missing or unknown")
		}
		if c.AgeBand == "" {
			v.add(at("age_band"), "missing or unknown")
		}
		switch {
		case c.Count < 0:
			v.add(at("count"), "must not be negative")
		case c.Count > MaxCount:
			v.add(at("count"), fmt.Sprintf("must be at most %d", MaxCount))
		}
		k := key{c.KommunCode, c.Housing, c.Sex, c.AgeBand}
		if first, dup := seen[k]; dup {
			v.add(fmt.Sprintf("cells[%d]", i), fmt.Sprintf("repeats the kommun, housing type, sex and age band of cells[%d]", first))
		} else {
			seen[k] = i
		}
		total += max(0, min(c.Count, MaxCount))
	}
	if len(cells) > 0 && total == 0 && v.n == 0 {
		// Replacing a snapshot with one of nobody would wipe it, whatever the
		// file held (only zeros, say): far more likely a broken file.
		v.add("cells", "every count is 0: a snapshot with no adults would wipe the figures")
	}
	if err := v.err(); err != nil {
		return Snapshot{}, err
	}
	return Snapshot{ReferenceDate: referenceDate, CellCount: int64(len(cells)), Total: total}, nil
}

// capped collects violations up to max and counts the rest, so the error
// still says how much more is wrong.
type capped struct {
	list   badrequest.Violations
	max, n int
	// summary is the field of the "more problems" violation; "cells" when
	// empty.
	summary string
}

func (c *capped) add(field, description string) {
	c.n++
	if c.n <= c.max {
		c.list.Add(field, description)
	}
}

func (c *capped) err() error {
	if c.n > c.max {
		field := c.summary
		if field == "" {
			field = "cells"
		}
		c.list.Add(field, fmt.Sprintf("%d more problems not listed; fix the ones above and import again", c.n-c.max))
	}
	return c.list.Err()
}

func quote(s string) string { return "\"" + s + "\"" }
