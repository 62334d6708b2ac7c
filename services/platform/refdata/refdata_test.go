package refdata

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestCounts(t *testing.T) {
	if got := len(Kommuner()); got != 290 {
		t.Errorf("len(Kommuner()) = %d, want 290", got)
	}
	if got := len(Lans()); got != 21 {
		t.Errorf("len(Lans()) = %d, want 21", got)
	}
}

func TestKommunInvariants(t *testing.T) {
	total := 0
	for _, k := range Kommuner() {
		if !Digits(k.Code, 4) {
			t.Errorf("kommun %q: code is not four digits", k.Code)
		}
		if k.Code[:2] != k.LanCode {
			t.Errorf("kommun %q: län code %q is not its prefix", k.Code, k.LanCode)
		}
		if _, ok := LanByCode(k.LanCode); !ok {
			t.Errorf("kommun %q: län %q does not exist", k.Code, k.LanCode)
		}
		if k.Name == "" {
			t.Errorf("kommun %q: empty name", k.Code)
		}
	}
	for _, l := range Lans() {
		in := KommunerIn(l.Code)
		if len(in) == 0 {
			t.Errorf("län %q has no kommuner", l.Code)
		}
		for _, k := range in {
			if k.LanCode != l.Code {
				t.Errorf("KommunerIn(%q) returned %q of län %q", l.Code, k.Code, k.LanCode)
			}
		}
		total += len(in)
	}
	if total != 290 {
		t.Errorf("kommuner summed over län = %d, want 290", total)
	}
}

func TestSortedAndCopied(t *testing.T) {
	ks := Kommuner()
	if !slices.IsSortedFunc(ks, func(a, b Kommun) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("Kommuner() not sorted by code")
	}
	ls := Lans()
	if !slices.IsSortedFunc(ls, func(a, b Lan) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("Lans() not sorted by code")
	}
	in := KommunerIn("01")
	if !slices.IsSortedFunc(in, func(a, b Kommun) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("KommunerIn(01) not sorted by code")
	}

	// Mutating returned slices must not leak into later calls.
	first := ks[0]
	ks[0].Name = "mutated"
	ls[0].Name = "mutated"
	in[0].Name = "mutated"
	if got := Kommuner()[0]; got != first {
		t.Errorf("Kommuner()[0] = %+v after caller mutation, want %+v", got, first)
	}
	if got := Lans()[0].Name; got == "mutated" {
		t.Error("Lans() shares its backing array with callers")
	}
	if got := KommunerIn("01")[0].Name; got == "mutated" {
		t.Error("KommunerIn shares its backing array with callers")
	}
	if got, _ := KommunByCode(first.Code); got != first {
		t.Errorf("KommunByCode(%q) = %+v after caller mutation", first.Code, got)
	}
}

// lookupTest is a code and what a ByCode lookup returns for it.
type lookupTest[T comparable] struct {
	code   string
	want   T
	wantOK bool
}

// checkLookups checks lookup, called name in messages, against tests.
func checkLookups[T comparable](t *testing.T, name string, lookup func(string) (T, bool), tests []lookupTest[T]) {
	t.Helper()
	for _, tt := range tests {
		got, ok := lookup(tt.code)
		if ok != tt.wantOK || got != tt.want {
			t.Errorf("%s(%q) = %+v, %v; want %+v, %v", name, tt.code, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestLookups(t *testing.T) {
	checkLookups(t, "KommunByCode", KommunByCode, []lookupTest[Kommun]{
		{"0180", Kommun{Code: "0180", Name: "Stockholm", LanCode: "01", Lat: 59.32944, Lon: 18.06861}, true},
		{"2584", Kommun{Code: "2584", Name: "Kiruna", LanCode: "25", Lat: 67.85, Lon: 20.21667}, true},
		{"1280", Kommun{Code: "1280", Name: "Malmö", LanCode: "12", Lat: 55.60556, Lon: 13.0}, true},
		{"0000", Kommun{}, false},
		{"180", Kommun{}, false},
		{"01800", Kommun{}, false},
		{"", Kommun{}, false},
	})
	checkLookups(t, "LanByCode", LanByCode, []lookupTest[Lan]{
		{"01", Lan{"01", "Stockholms län"}, true},
		{"25", Lan{"25", "Norrbottens län"}, true},
		{"02", Lan{}, false}, // abolished (Stockholms stad), merged into 01
		{"1", Lan{}, false},
		{"26", Lan{}, false},
		{"", Lan{}, false},
	})

	for _, code := range []string{"02", "99", ""} {
		if got := KommunerIn(code); got != nil {
			t.Errorf("KommunerIn(%q) = %d kommuner, want nil", code, len(got))
		}
	}
	if got := len(KommunerIn("09")); got != 1 {
		t.Errorf("KommunerIn(09 Gotland) has %d kommuner, want 1", got)
	}
}

func TestDistanceKm(t *testing.T) {
	get := func(code string) Kommun {
		t.Helper()
		k, ok := KommunByCode(code)
		if !ok {
			t.Fatalf("kommun %q missing", code)
		}
		return k
	}
	tests := []struct {
		a, b      string
		want, tol float64
	}{
		{"0180", "0380", 64, 5},   // Stockholm–Uppsala
		{"0180", "0180", 0, 1e-9}, // same seat
		{"1280", "2584", 1411, 5}, // Malmö–Kiruna: 12.2° of latitude plus 7.2° of longitude
	}
	for _, tt := range tests {
		a, b := get(tt.a), get(tt.b)
		got := DistanceKm(a, b)
		if math.Abs(got-tt.want) > tt.tol {
			t.Errorf("DistanceKm(%s, %s) = %.2f, want %v ± %v", tt.a, tt.b, got, tt.want, tt.tol)
		}
		if back := DistanceKm(b, a); math.Abs(back-got) > 1e-9 {
			t.Errorf("DistanceKm not symmetric for %s/%s: %v vs %v", tt.a, tt.b, got, back)
		}
	}
}

func TestEmbeddedDataParses(t *testing.T) {
	// load panics on corrupt data; calling parse directly turns that into a
	// readable test failure instead.
	if _, err := parse(kommunerCSV, lanCSV); err != nil {
		t.Fatalf("embedded data: %v", err)
	}
}

func TestParseRejectsCorruptData(t *testing.T) {
	const lanOK = "lan_kod,lan_namn\n01,Stockholms län\n03,Uppsala län\n"
	const kHeader = "kommun_kod,kommun_namn,lan_kod,lat,lon\n"
	const kOK = kHeader + "0180,Stockholm,01,59.3,18.0\n0380,Uppsala,03,59.8,17.6\n"
	tests := []struct {
		name      string
		kommuner  string
		lan       string
		wantInErr string // empty means parse must succeed
	}{
		{"valid", kOK, lanOK, ""},
		{"valid with BOM", "\ufeff" + kOK, "\ufeff" + lanOK, ""},
		{"empty lan file", kOK, "", "empty file"},
		{"lan header only", kOK, "lan_kod,lan_namn\n", "no rows"},
		{"wrong lan header", kOK, "kod,namn\n01,Stockholms län\n", "header"},
		{"reordered kommun columns", "kommun_kod,kommun_namn,lan_kod,lon,lat\n0180,Stockholm,01,18.0,59.3\n", lanOK, "header"},
		{"short row", kHeader + "0180,Stockholm,01,59.3\n", lanOK, "wrong number of fields"},
		{"lan code not digits", kOK, "lan_kod,lan_namn\nAB,X\n", "not two digits"},
		{"duplicate lan", kOK, lanOK + "03,Uppsala igen\n", "duplicate code"},
		{"kommun code length", kHeader + "180,Stockholm,01,59.3,18.0\n", lanOK, "not four digits"},
		{"prefix mismatch", kHeader + "0180,Stockholm,03,59.3,18.0\n", lanOK, "does not start with"},
		{"unknown lan", kHeader + "0280,Nowhere,02,59.3,18.0\n", lanOK, "unknown län"},
		{"duplicate kommun", kOK + "0180,Stockholm,01,59.3,18.0\n", lanOK, "duplicate code"},
		{"bad float", kHeader + "0180,Stockholm,01,59.3x,18.0\n", lanOK, "lat"},
		{"swapped lat/lon", kHeader + "0180,Stockholm,01,18.0,59.3\n", lanOK, "outside Sweden"},
		{"NaN", kHeader + "0180,Stockholm,01,NaN,18.0\n", lanOK, "outside Sweden"},
		{"empty name", kHeader + "0180,,01,59.3,18.0\n", lanOK, "empty name"},
		{"lan without kommuner", kHeader + "0180,Stockholm,01,59.3,18.0\n", lanOK, "has no kommuner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parse([]byte(tt.kommuner), []byte(tt.lan))
			if tt.wantInErr == "" {
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				if len(d.kommuner) != 2 || len(d.lans) != 2 {
					t.Fatalf("parsed %d kommuner, %d län; want 2, 2", len(d.kommuner), len(d.lans))
				}
				return
			}
			if err == nil {
				t.Fatalf("parse succeeded, want error containing %q", tt.wantInErr)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("parse error %q does not mention %q", err, tt.wantInErr)
			}
		})
	}
}
