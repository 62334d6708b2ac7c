package domain

import "testing"

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
