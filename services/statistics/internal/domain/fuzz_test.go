package domain

import (
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
		im := NewCellImport("2026-01-01", Limits{MaxBytes: 1 << 20, MaxRows: 10000})
		if persons {
			im = NewPersonImport("2026-01-01", Limits{MaxBytes: 1 << 20, MaxRows: 10000})
		}
		if err := im.ReadCSV(strings.NewReader(body)); err != nil {
			return
		}
		g, err := im.Finish()
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
