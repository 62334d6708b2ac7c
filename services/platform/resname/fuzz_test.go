package resname

import (
	"strings"
	"testing"
)

func FuzzMatch(f *testing.F) {
	p := New("organisers/{organiser}/activities/{activity}/certificates/{certificate}")
	for _, s := range []string{"organisers/1/activities/2/certificates/3", "organisers//activities/2/certificates/3", "/", "", "organisers/-/activities/-/certificates/x\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		vars, ok := p.Match(name)
		if !ok {
			return
		}
		if len(vars) != 3 || p.Format(vars...) != name {
			t.Fatalf("Match(%q) = %v does not round-trip", name, vars)
		}
		for _, v := range vars {
			if v == "" || strings.Contains(v, "/") {
				t.Fatalf("variable %q", v)
			}
		}
	})
}
