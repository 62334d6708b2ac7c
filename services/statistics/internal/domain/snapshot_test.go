package domain

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

func validCells() []Cell {
	return []Cell{
		{KommunCode: "0180", Housing: HousingABE, Sex: SexKvinna, AgeBand: Age18to24, Count: 12},
		{KommunCode: "0180", Housing: HousingEBO, Sex: SexKvinna, AgeBand: Age18to24, Count: 30},
		{KommunCode: "2584", Housing: HousingOvrigt, Sex: SexMan, AgeBand: Age65Plus, Count: 0},
	}
}

func TestNewSnapshot(t *testing.T) {
	tests := []struct {
		name   string
		date   string
		change func([]Cell) []Cell
		fields []string
	}{
		{name: "valid", change: func(c []Cell) []Cell { return c }},
		{name: "leap day", date: "2024-02-29", change: func(c []Cell) []Cell { return c }},
		{name: "not a date", date: "2026-02-30", change: func(c []Cell) []Cell { return c }, fields: []string{"name"}},
		{name: "no cells", change: func([]Cell) []Cell { return nil }, fields: []string{"cells"}},
		{name: "unknown kommun", change: func(c []Cell) []Cell { c[1].KommunCode = "9999"; return c }, fields: []string{"cells[1].kommun_code"}},
		{name: "housing unset", change: func(c []Cell) []Cell { c[0].Housing = ""; return c }, fields: []string{"cells[0].housing_type"}},
		{name: "sex unset", change: func(c []Cell) []Cell { c[2].Sex = ""; return c }, fields: []string{"cells[2].sex"}},
		{name: "age band unset", change: func(c []Cell) []Cell { c[2].AgeBand = ""; return c }, fields: []string{"cells[2].age_band"}},
		{name: "negative count", change: func(c []Cell) []Cell { c[1].Count = -1; return c }, fields: []string{"cells[1].count"}},
		{name: "duplicate", change: func(c []Cell) []Cell { return append(c, c[0]) }, fields: []string{"cells[3]"}},
		{
			name:   "several",
			change: func(c []Cell) []Cell { c[0].KommunCode = "01"; c[2].Count = -5; return c },
			fields: []string{"cells[0].kommun_code", "cells[2].count"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			date := tt.date
			if date == "" {
				date = "2026-03-31"
			}
			cells := tt.change(validCells())
			s, err := NewSnapshot(date, cells)
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v (err %v)", got, tt.fields, err)
			}
			if err != nil {
				return
			}
			if s.ReferenceDate != date || s.CellCount != 3 || s.Total != 42 || s.Name() != "snapshots/"+date {
				t.Fatalf("snapshot = %+v", s)
			}
			if cells[0].LanCode != "01" || cells[2].LanCode != "25" {
				t.Fatalf("län not filled: %+v", cells)
			}
		})
	}
}

func TestNewSnapshotCapsViolations(t *testing.T) {
	cells := make([]Cell, 100)
	for i := range cells {
		cells[i] = Cell{KommunCode: fmt.Sprintf("x%03d", i), Housing: HousingABE, Sex: SexMan, AgeBand: Age18to24, Count: 1}
	}
	_, err := NewSnapshot("2026-03-31", cells)
	fields := badrequest.Fields(err)
	if len(fields) != MaxViolations+1 {
		t.Fatalf("got %d violations, want %d plus a summary", len(fields), MaxViolations)
	}
	if fields[0] != "cells[0].kommun_code" || fields[MaxViolations] != "cells" {
		t.Fatalf("fields = %v", fields)
	}
}

func TestParseName(t *testing.T) {
	tests := []struct {
		name, date string
		ok         bool
	}{
		{"snapshots/2026-03-31", "2026-03-31", true},
		{"snapshots/2026-13-01", "", false},
		{"snapshots/2026-3-1", "", false},
		{"snapshot/2026-03-31", "", false},
		{"snapshots/", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		date, ok := ParseName(tt.name)
		if date != tt.date || ok != tt.ok {
			t.Errorf("ParseName(%q) = %q, %v; want %q, %v", tt.name, date, ok, tt.date, tt.ok)
		}
	}
}

func TestQueryValidate(t *testing.T) {
	tests := []struct {
		name   string
		q      Query
		fields []string
	}{
		{name: "grand total", q: Query{}},
		{name: "filters and groups", q: Query{LanCodes: []string{"01", "25"}, KommunCodes: []string{"0180"}, GroupBy: []Dimension{DimLan, DimSex}}},
		{name: "unknown län", q: Query{LanCodes: []string{"01", "02"}}, fields: []string{"lan_codes[1]"}},
		{name: "unknown kommun", q: Query{KommunCodes: []string{"0000"}}, fields: []string{"kommun_codes[0]"}},
		{name: "unset dimension", q: Query{GroupBy: []Dimension{""}}, fields: []string{"group_by[0]"}},
		{name: "repeated dimension", q: Query{GroupBy: []Dimension{DimSex, DimKommun, DimSex}}, fields: []string{"group_by[2]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := badrequest.Fields(tt.q.Validate()); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
}
