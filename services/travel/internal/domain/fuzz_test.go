package domain

import "testing"

func FuzzParseDossier(f *testing.F) {
	for _, s := range []string{"12-345678", "12-345678/1", " 12-345678/123 ", "12-345678/", "", "12345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDossier(s)
		if !ok {
			return
		}
		if again, ok := ParseDossier(d); !ok || again != d || len(d) != 9 {
			t.Fatalf("ParseDossier(%q) = %q does not round-trip", s, d)
		}
	})
}

func FuzzParseClaimName(f *testing.F) {
	for _, s := range []string{"claims/abc", "claims/", "claims/a/b", "", "routes/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseClaimName(s)
		if ok && "claims/"+id != s {
			t.Fatalf("ParseClaimName(%q) = %q", s, id)
		}
	})
}
