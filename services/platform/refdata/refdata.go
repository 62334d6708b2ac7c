// Package refdata provides Swedish administrative reference data: the 290
// kommuner (municipalities) and 21 län (counties), with the geographic
// position of each kommun's seat.
//
// The data is compiled into the binary with go:embed rather than read from
// disk or a database, so every service (and the single-binary embedded mode)
// sees the same immutable set without deployment steps. It is parsed once, on
// first use, and validated strictly: the embedded files are part of the
// source tree, so a parse failure is a build defect and panics instead of
// being returned to every caller.
package refdata

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
)

// Kommun is a Swedish municipality. Code is the four-digit kommunkod whose
// first two digits are the LanCode; Lat and Lon (WGS 84 degrees) locate the
// municipal seat, which is what DistanceKm measures between.
type Kommun struct {
	Code, Name, LanCode string
	Lat, Lon            float64
}

// Lan is a Swedish county; Code is the two-digit länskod.
type Lan struct {
	Code, Name string
}

var (
	//go:embed data/kommuner.csv
	kommunerCSV []byte
	//go:embed data/lan.csv
	lanCSV []byte
)

// dataset is the parsed, validated reference data. It is never mutated after
// parsing, which is what makes it safe to share between goroutines.
type dataset struct {
	kommuner []Kommun // sorted by Code
	lans     []Lan    // sorted by Code
	kommunBy map[string]int
	lanBy    map[string]int
	byLan    map[string][]Kommun // each sorted by Code
}

// load parses the embedded data exactly once. Panicking is deliberate: the
// input is compiled in and covered by tests, so failure cannot be caused by
// the environment and there is nothing a caller could do to recover.
var load = sync.OnceValue(func() *dataset {
	d, err := parse(kommunerCSV, lanCSV)
	if err != nil {
		panic(fmt.Sprintf("refdata: corrupt embedded data: %v", err))
	}
	return d
})

// KommunByCode returns the kommun with the given four-digit code.
func KommunByCode(code string) (Kommun, bool) {
	d := load()
	return byCode(d.kommuner, d.kommunBy, code)
}

// LanByCode returns the län with the given two-digit code.
func LanByCode(code string) (Lan, bool) {
	d := load()
	return byCode(d.lans, d.lanBy, code)
}

// byCode looks code up in index, the positions in list by code.
func byCode[T any](list []T, index map[string]int, code string) (T, bool) {
	i, ok := index[code]
	if !ok {
		var zero T
		return zero, false
	}
	return list[i], true
}

// Kommuner returns all kommuner sorted by code. The slice is a copy, so
// callers may sort or modify it without affecting other callers.
func Kommuner() []Kommun {
	return slices.Clone(load().kommuner)
}

// Lans returns all län sorted by code, as a copy the caller may modify.
func Lans() []Lan {
	return slices.Clone(load().lans)
}

// KommunerIn returns the kommuner in the given län, sorted by code, as a copy
// the caller may modify. It returns nil for an unknown län code.
func KommunerIn(lanCode string) []Kommun {
	return slices.Clone(load().byLan[lanCode])
}

// earthRadiusKm is the IUGG mean Earth radius. A spherical model is off by at
// most about 0.5% against the ellipsoid, which is far below the precision of
// a municipal-seat coordinate and adequate for travel-distance estimates.
const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle (haversine) distance between the seats of two
// kommuner. It is a straight-line lower bound on travel distance, not a road
// distance.
func DistanceKm(a, b Kommun) float64 {
	lat1, lat2 := radians(a.Lat), radians(b.Lat)
	dLat := lat2 - lat1
	dLon := radians(b.Lon - a.Lon)
	h := math.Pow(math.Sin(dLat/2), 2) +
		math.Cos(lat1)*math.Cos(lat2)*math.Pow(math.Sin(dLon/2), 2)
	// Clamp guards against h drifting just above 1 through rounding for
	// antipodal points, which would make Asin return NaN.
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(math.Min(h, 1)))
}

func radians(deg float64) float64 { return deg * math.Pi / 180 }

// parse reads and cross-validates the two CSV files. It is separate from load
// so that tests can feed it corrupt input.
func parse(kommunerData, lanData []byte) (*dataset, error) {
	lanRows, err := readCSV(lanData, []string{"lan_kod", "lan_namn"})
	if err != nil {
		return nil, fmt.Errorf("lan.csv: %w", err)
	}
	d := &dataset{
		lanBy:    make(map[string]int, len(lanRows)),
		kommunBy: make(map[string]int),
		byLan:    make(map[string][]Kommun, len(lanRows)),
	}
	for i, r := range lanRows {
		line := i + 2 // 1-based, after the header
		l := Lan{Code: r[0], Name: r[1]}
		if !Digits(l.Code, 2) {
			return nil, fmt.Errorf("lan.csv line %d: code %q is not two digits", line, l.Code)
		}
		if l.Name == "" {
			return nil, fmt.Errorf("lan.csv line %d: empty name", line)
		}
		if _, dup := d.lanBy[l.Code]; dup {
			return nil, fmt.Errorf("lan.csv line %d: duplicate code %q", line, l.Code)
		}
		d.lanBy[l.Code] = -1 // placeholder until sorted
		d.lans = append(d.lans, l)
	}
	if len(d.lans) == 0 {
		return nil, errors.New("lan.csv: no rows")
	}

	kommunRows, err := readCSV(kommunerData, []string{"kommun_kod", "kommun_namn", "lan_kod", "lat", "lon"})
	if err != nil {
		return nil, fmt.Errorf("kommuner.csv: %w", err)
	}
	for i, r := range kommunRows {
		line := i + 2
		k := Kommun{Code: r[0], Name: r[1], LanCode: r[2]}
		switch {
		case !Digits(k.Code, 4):
			return nil, fmt.Errorf("kommuner.csv line %d: code %q is not four digits", line, k.Code)
		case k.Name == "":
			return nil, fmt.Errorf("kommuner.csv line %d: empty name", line)
		case k.Code[:2] != k.LanCode:
			return nil, fmt.Errorf("kommuner.csv line %d: code %q does not start with its län code %q", line, k.Code, k.LanCode)
		}
		if _, ok := d.lanBy[k.LanCode]; !ok {
			return nil, fmt.Errorf("kommuner.csv line %d: unknown län code %q", line, k.LanCode)
		}
		if _, dup := d.kommunBy[k.Code]; dup {
			return nil, fmt.Errorf("kommuner.csv line %d: duplicate code %q", line, k.Code)
		}
		if k.Lat, err = parseCoord(r[3], minLat, maxLat); err != nil {
			return nil, fmt.Errorf("kommuner.csv line %d: lat: %w", line, err)
		}
		if k.Lon, err = parseCoord(r[4], minLon, maxLon); err != nil {
			return nil, fmt.Errorf("kommuner.csv line %d: lon: %w", line, err)
		}
		d.kommunBy[k.Code] = -1
		d.kommuner = append(d.kommuner, k)
	}

	byCode := func(a, b Kommun) int { return cmp.Compare(a.Code, b.Code) }
	slices.SortFunc(d.kommuner, byCode)
	slices.SortFunc(d.lans, func(a, b Lan) int { return cmp.Compare(a.Code, b.Code) })
	for i, k := range d.kommuner {
		d.kommunBy[k.Code] = i
		d.byLan[k.LanCode] = append(d.byLan[k.LanCode], k)
	}
	for i, l := range d.lans {
		d.lanBy[l.Code] = i
		if len(d.byLan[l.Code]) == 0 {
			return nil, fmt.Errorf("lan.csv: län %q has no kommuner", l.Code)
		}
	}
	return d, nil
}

// Bounding box that comfortably contains Sweden. A coordinate outside it is
// almost certainly a swapped lat/lon or a lost decimal point.
const (
	minLat, maxLat = 55.0, 69.5
	minLon, maxLon = 10.5, 24.5
)

func parseCoord(s string, lo, hi float64) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %q: %w", s, err)
	}
	if !(v >= lo && v <= hi) { // also rejects NaN
		return 0, fmt.Errorf("%v outside Sweden's range [%v, %v]", v, lo, hi)
	}
	return v, nil
}

// readCSV returns the data rows after checking that the header is exactly
// want, so that a reordered column cannot silently swap fields.
func readCSV(data []byte, want []string) ([][]string, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // tolerate a UTF-8 BOM from spreadsheet exports
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(want)
	header, err := r.Read()
	if err == io.EOF {
		return nil, errors.New("empty file")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if !slices.Equal(header, want) {
		return nil, fmt.Errorf("header is %q, want %q", header, want)
	}
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// Digits reports whether s is n ASCII digits: the shape of a län code (2),
// a kommun code (4) and an organisation number (10).
func Digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
