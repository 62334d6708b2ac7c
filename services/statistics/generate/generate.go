// Package generate writes realistic, deterministic person-level extracts of
// the reception system for demos, tests and benchmarks: the same seed gives
// the same file, byte for byte. The people are spread over the kommuner the
// way the target group is: many in the three metropolitan kommuner and the
// län's main towns, many where Migrationsverket runs accommodation
// (anläggningsboende, ABE), and a few everywhere else; most men, most young.
// No real person is described.
package generate

import (
	"bufio"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/tia-platform/tia/services/platform/refdata"
)

// Header is the first line of an extract.
const Header = "kommunkod,boendeform,kön,födelsedatum"

// Options describe one extract.
type Options struct {
	// Seed makes the extract; the same seed, the same file.
	Seed uint64
	// Rows is the number of people (lines after the header), children
	// included.
	Rows int
	// ReferenceDate (YYYY-MM-DD) is the date ages are counted on.
	ReferenceDate string
	// MinorShare is the share of people under 18; DefaultMinorShare when 0.
	MinorShare float64
}

// DefaultMinorShare is roughly the share of children among people in the
// reception system.
const DefaultMinorShare = 0.25

// RowsForAdults is the number of rows that gives about adults adults with
// the default share of children.
func RowsForAdults(adults int) int { return int(float64(adults) / (1 - DefaultMinorShare)) }

// AgencyKommuner are the kommuner given accommodation run by Migrationsverket
// (an illustrative set in the spirit of the agency's larger sites, not a
// list of today's).
var AgencyKommuner = []string{
	"0114", "0191", "0381", "0482", "0581", "0680", "0780", "0880", "1080", "1277",
	"1282", "1380", "1480", "1780", "1880", "1980", "2180", "2380", "2480", "2582",
}

// Weight is how many people a kommun gets relative to a small kommun.
func Weight(code string) float64 {
	w := 1.0
	switch code {
	case "0180": // Stockholm
		w = 30
	case "1480": // Göteborg
		w = 18
	case "1280": // Malmö
		w = 14
	default:
		if strings.HasSuffix(code, "80") || strings.HasSuffix(code, "81") {
			w = 5 // the län's main towns
		} else if strings.HasPrefix(code, "01") || strings.HasPrefix(code, "12") || strings.HasPrefix(code, "14") {
			w = 2 // the metropolitan län
		}
	}
	if slices.Contains(AgencyKommuner, code) {
		w += 6
	}
	return w
}

// housing shares (ABE, EBO, ÖVRIGT) where the agency has accommodation and
// elsewhere.
var (
	housingAgency = [3]float64{0.55, 0.33, 0.12}
	housingOther  = [3]float64{0, 0.8, 0.2}
	housingLabels = [3]string{"ABE", "EBO", "ÖVRIGT"}
)

// adult age bands and their shares; ages are uniform within a band.
var bands = []struct {
	lo, hi int
	share  float64
}{
	{18, 24, 0.26}, {25, 34, 0.35}, {35, 44, 0.21}, {45, 54, 0.11}, {55, 64, 0.05}, {65, 85, 0.02},
}

// shareMen is the share of men among adults (children are even).
const shareMen = 0.62

// Write writes the extract to w as CSV, header first, one person a line. It
// keeps nothing of the people it wrote, so any size streams in constant
// memory.
func Write(w io.Writer, o Options) error {
	ref, err := time.Parse("2006-01-02", o.ReferenceDate)
	if err != nil {
		return err
	}
	minor := o.MinorShare
	if minor == 0 {
		minor = DefaultMinorShare
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	kommuner := refdata.Kommuner()
	cum := make([]float64, len(kommuner))
	agency := make([]bool, len(kommuner))
	var sum float64
	for i, k := range kommuner {
		sum += Weight(k.Code)
		cum[i] = sum
		agency[i] = slices.Contains(AgencyKommuner, k.Code)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(Header + "\n")
	line := make([]byte, 0, 64)
	for range o.Rows {
		x := r.Float64() * sum
		k, _ := slices.BinarySearch(cum, x)
		k = min(k, len(kommuner)-1)
		shares := housingOther
		if agency[k] {
			shares = housingAgency
		}
		h := pick(r.Float64(), shares[:])
		var age int
		sex := "kvinna"
		if r.Float64() < minor {
			age = r.IntN(18)
			if r.IntN(2) == 0 {
				sex = "man"
			}
		} else {
			x := r.Float64()
			b := len(bands) - 1
			for i, band := range bands {
				if x < band.share {
					b = i
					break
				}
				x -= band.share
			}
			age = bands[b].lo + r.IntN(bands[b].hi-bands[b].lo+1)
			if r.Float64() < shareMen {
				sex = "man"
			}
		}
		// Born age years and 0–364 days before the reference date.
		birth := ref.AddDate(-age, 0, -r.IntN(365))
		line = append(line[:0], kommuner[k].Code...)
		line = append(line, ',')
		line = append(line, housingLabels[h]...)
		line = append(line, ',')
		line = append(line, sex...)
		line = append(line, ',')
		line = birth.AppendFormat(line, "2006-01-02")
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func pick(x float64, shares []float64) int {
	for i, s := range shares {
		if x < s {
			return i
		}
		x -= s
	}
	return len(shares) - 1
}

// MonthEnds returns the last day of n consecutive months ending with the
// month of last (YYYY-MM-DD), oldest first.
func MonthEnds(last string, n int) []string {
	t, err := time.Parse("2006-01-02", last)
	if err != nil {
		return nil
	}
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]string, n)
	for i := range n {
		m := first.AddDate(0, -(n - 1 - i), 0)
		out[i] = m.AddDate(0, 1, -1).Format("2006-01-02")
	}
	return out
}
