package domain

import "testing"

func FuzzNormalizeDossier(f *testing.F) {
	for _, s := range []string{"12-345678", "12-345678/1", "1-2345678", "12-34567x", "", "/", "１２-345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := NormalizeDossier(s)
		if !ok {
			return
		}
		if len(d) != 9 || d[2] != '-' {
			t.Fatalf("NormalizeDossier(%q) = %q", s, d)
		}
		if again, ok := NormalizeDossier(d); !ok || again != d {
			t.Fatalf("not idempotent: %q → %q", d, again)
		}
	})
}

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
