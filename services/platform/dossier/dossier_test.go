package dossier

import "testing"

func TestDossier(t *testing.T) {
	tests := []struct {
		in       string
		valid    bool   // Valid(in)
		normal   string // Normalize(in)
		parsed   string // Parse(in)
		parsedOK bool
	}{
		{"12-345678", true, "12-345678", "12-345678", true},
		{"12-345678/1", false, "12-345678", "12-345678", true},
		{" 12-345678/12 ", false, "12-345678", "12-345678", true},
		{" 12-345678 ", false, "12-345678", "12-345678", true},
		{"12345678", false, "12345678", "", false},
		{"12-34567", false, "12-34567", "", false},
		{"12-345678/", false, "12-345678", "", false},
		{"12-345678/1234", false, "12-345678", "", false},
		{"12-345678/x", false, "12-345678", "", false},
		{"12-345678 /1", false, "12-345678", "", false},
		{"ab-345678", false, "ab-345678", "", false},
		{"12-34567x", false, "12-34567x", "", false},
		{"1-2345678", false, "1-2345678", "", false},
		{"１２-345678", false, "１２-345678", "", false},
		{"", false, "", "", false},
		{"/", false, "", "", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.valid {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.valid)
		}
		if got := Normalize(tt.in); got != tt.normal {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.normal)
		}
		if got, ok := Parse(tt.in); got != tt.parsed || ok != tt.parsedOK {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.parsed, tt.parsedOK)
		}
	}
}

// FuzzParse: what Parse accepts is in normal form, valid, and parses to
// itself; Normalize agrees with it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"12-345678", "12-345678/1", "1-2345678", "12-34567x", "", "/", "１２-345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := Parse(s)
		if !ok {
			return
		}
		if !Valid(d) || Normalize(s) != d {
			t.Fatalf("Parse(%q) = %q: Valid %v, Normalize %q", s, d, Valid(d), Normalize(s))
		}
		if again, ok := Parse(d); !ok || again != d {
			t.Fatalf("not idempotent: %q → %q", d, again)
		}
	})
}
