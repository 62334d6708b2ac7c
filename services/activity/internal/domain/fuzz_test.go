package domain

import "testing"

func FuzzOrgNumber(f *testing.F) {
	for _, s := range []string{"802000-1234", "8020001234", "556036-0793", "", "abcdefghij", "16802000-1234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidOrgNumber(s) {
			return
		}
		n := NormalizeOrgNumber(s)
		if len(n) != 10 || !ValidOrgNumber(n) {
			t.Fatalf("ValidOrgNumber(%q) but normalized %q", s, n)
		}
	})
}
