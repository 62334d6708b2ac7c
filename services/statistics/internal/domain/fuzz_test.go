package domain

import (
	"slices"
	"strings"
	"testing"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

// FuzzReadCSV: any upload gives a grid or field violations that name a line
// and column, never a panic; counts never go negative.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"kommun,housing,sex,birth_date\n0180,ABE,M,1990-01-01\n",
		"kommun;housing;sex;birth_date\n0180;EBO;K;2026-02-30\n",
		"kommun_code,housing_type,sex,age_band,count\n0180,ABE,M,18-24,9223372036854775807\n0180,ABE,K,18-24,9223372036854775807\n",
		"\"unterminated\n", "", "\xff\xfe", "kommun\n\n\n",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, body string, persons bool) {
		limits := Limits{MaxBytes: 1 << 20, MaxRows: 10000}
		im := NewCellImport("2026-01-01", limits)
		if persons {
			im = readings[0].personImport("2026-01-01", limits)
		}
		if err := im.ReadCSV(strings.NewReader(body)); err != nil {
			return
		}
		g, err := im.Finish()
		if persons {
			// Read in parallel in blocks of a few bytes, the same file gives
			// the same counts and the same mistakes.
			par := reading{"parallel", 3, 5}.personImport("2026-01-01", limits)
			if perr := par.ReadCSV(strings.NewReader(body)); perr != nil {
				t.Fatalf("parallel reading failed: %v", perr)
			}
			pg, perr := par.Finish()
			if !slices.Equal(badrequest.Fields(perr), badrequest.Fields(err)) || pg.Total() != g.Total() || par.Rows != im.Rows || par.Under18 != im.Under18 {
				t.Fatalf("parallel: %v, %d adults, %d rows, %d under 18; sequential: %v, %d, %d, %d",
					perr, pg.Total(), par.Rows, par.Under18, err, g.Total(), im.Rows, im.Under18)
			}
		}
		if err != nil {
			if len(badrequest.Fields(err)) == 0 {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if g.Total() < 0 {
			t.Fatalf("negative total %d", g.Total())
		}
	})
}
