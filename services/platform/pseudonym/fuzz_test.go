package pseudonym

import (
	"testing"

	"github.com/tia-platform/tia/services/platform/dossier"
)

func FuzzOf(f *testing.F) {
	k, _ := New([]byte("0123456789abcdef0123456789abcdef"), nil)
	for _, s := range []string{"12-345678", "12-345678/1", "", "/", " 12-345678 /9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, d string) {
		id := k.Of(d)
		if len(id) != 32 || id != k.Of(dossier.Normalize(d)) {
			t.Fatalf("Of(%q) = %q", d, id)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"00112233445566778899aabbccddeeff", "AAECAwQFBgcICQoLDA0ODw==", "short", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := Parse(s); err == nil && len(b) < 16 {
			t.Fatalf("Parse(%q) accepted a %d-byte key", s, len(b))
		}
	})
}
