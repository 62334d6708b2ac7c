package clock

import "testing"

// FuzzParseDate: an accepted date is a real calendar day written exactly as
// YYYY-MM-DD.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-02-28", "2026-02-30", "2028-02-29", "0000-01-01", "2026-1-1", "２０２６-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.Format(DateLayout) != s {
			t.Fatalf("ParseDate(%q) = %s", s, d.Format(DateLayout))
		}
	})
}
