package domain

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

func TestImportPersonsCSV(t *testing.T) {
	const ref = "2026-10-31"
	head := "kommunkod,boendeform,kön,födelsedatum\n"
	tests := []struct {
		name    string
		csv     string
		limits  Limits
		fields  []string
		adults  int64
		under18 int64
	}{
		{name: "valid", csv: head + "0180,ABE,kvinna,1990-01-15\n0180,EBO,man,2008-10-31\n1280,ÖVRIGT,man,2008-11-01\n", adults: 2, under18: 1},
		{name: "semicolons, BOM, CRLF, any case, any column order",
			csv:    "\ufeffKön;Kommunkod;Födelsedatum;Boendeform\r\nKVINNA;0180;1960-05-05;övrigt\r\nman;2584;1950-01-01;abe\r\n",
			adults: 2},
		{name: "no trailing newline", csv: head + "0180,ABE,kvinna,1990-01-15", adults: 1},
		{name: "wrong header", csv: "kommun,boendeform,kön,födelsedatum\n0180,ABE,kvinna,1990-01-15\n",
			fields: []string{"line 1, column 1", "line 1, column kommunkod"}},
		{name: "missing column", csv: "kommunkod,boendeform,kön\n0180,ABE,kvinna\n", fields: []string{"line 1, column födelsedatum"}},
		{name: "empty file", csv: "", fields: []string{"line 1"}},
		{name: "header only", csv: head, fields: []string{"fil"}},
		{name: "unknown kommun", csv: head + "0180,ABE,kvinna,1990-01-15\n9999,ABE,kvinna,1990-01-15\n", fields: []string{"line 3, column kommunkod"}},
		{name: "unknown housing type", csv: head + "0180,HVB,kvinna,1990-01-15\n", fields: []string{"line 2, column boendeform"}},
		{name: "unknown sex", csv: head + "0180,ABE,x,1990-01-15\n", fields: []string{"line 2, column kön"}},
		{name: "bad date", csv: head + "0180,ABE,kvinna,1990-02-30\n0180,ABE,kvinna,15/01/1990\n",
			fields: []string{"line 2, column födelsedatum", "line 3, column födelsedatum"}},
		{name: "born after the reference date", csv: head + "0180,ABE,kvinna,2027-01-01\n", fields: []string{"line 2, column födelsedatum"}},
		{name: "truncated line", csv: head + "0180,ABE,kvinna,1990-01-15\n0180,EBO\n", fields: []string{"line 3, column kön"}},
		{name: "cut mid-value", csv: head + "0180,ABE,kvinna,1990-01-15\n0180,EBO,man,1990-0", fields: []string{"line 3, column födelsedatum"}},
		{name: "extra column", csv: head + "0180,ABE,kvinna,1990-01-15,x\n", fields: []string{"line 2"}},
		{name: "broken quote", csv: head + "0180,\"ABE,kvinna,1990-01-15\n", fields: []string{"line 2"}},
		{name: "several on one line", csv: head + "0000,XYZ,kvinna,1990-01-15\n", fields: []string{"line 2, column kommunkod", "line 2, column boendeform"}},
		{name: "body over the size limit", csv: head + strings.Repeat("0180,ABE,kvinna,1990-01-15\n", 100), limits: Limits{MaxBytes: 500},
			fields: []string{"line 19"}},
		{name: "too many rows", csv: head + strings.Repeat("0180,ABE,kvinna,1990-01-15\n", 10), limits: Limits{MaxRows: 5},
			fields: []string{"line 7"}},
	}
	for _, rd := range readings {
		for _, tt := range tests {
			t.Run(rd.name+"/"+tt.name, func(t *testing.T) {
				im := rd.personImport(ref, tt.limits)
				if err := im.ReadCSV(strings.NewReader(tt.csv)); err != nil {
					t.Fatal(err)
				}
				g, err := im.Finish()
				if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
					t.Fatalf("fields = %q, want %q (%v)", got, tt.fields, err)
				}
				if err != nil {
					return
				}
				if g.Total() != tt.adults || im.Under18 != tt.under18 {
					t.Fatalf("adults %d, under 18 %d; want %d, %d", g.Total(), im.Under18, tt.adults, tt.under18)
				}
			})
		}
	}
}

// readings are the ways a person import is read: by the calling goroutine
// alone, in parallel, and in parallel in blocks shorter than a line.
var readings = []reading{{"sequential", 1, defaultBlockSize}, {"parallel", 3, defaultBlockSize}, {"parallel, small blocks", 3, 7}}

type reading struct {
	name               string
	readers, blockSize int
}

func (rd reading) personImport(referenceDate string, l Limits) *Import {
	im := NewPersonImport(referenceDate, l)
	im.readers, im.blockSize = rd.readers, rd.blockSize
	return im
}

func TestImportCellsCSV(t *testing.T) {
	head := "kommunkod,boendeform,kön,åldersgrupp,antal\n"
	tests := []struct {
		name   string
		csv    string
		fields []string
		total  int64
	}{
		{name: "valid", csv: head + "0180,ABE,kvinna,18-24,12\n0180,ABE,kvinna,65+,3\n1280,EBO,man,25–34,0\n", total: 15},
		{name: "negative count", csv: head + "0180,ABE,kvinna,18-24,-1\n", fields: []string{"line 2, column antal"}},
		{name: "count not a number", csv: head + "0180,ABE,kvinna,18-24,tolv\n", fields: []string{"line 2, column antal"}},
		{name: "unknown age band", csv: head + "0180,ABE,kvinna,18-25,1\n", fields: []string{"line 2, column åldersgrupp"}},
		{name: "duplicated cell", csv: head + "0180,ABE,kvinna,18-24,12\n0184,ABE,kvinna,18-24,1\n0180,ABE,kvinna,18–24,5\n", fields: []string{"line 4"}},
		{name: "person header for cells", csv: "kommunkod,boendeform,kön,födelsedatum\n",
			fields: []string{"line 1, column 4", "line 1, column åldersgrupp", "line 1, column antal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im := NewCellImport("2026-10-31", Limits{})
			if err := im.ReadCSV(strings.NewReader(tt.csv)); err != nil {
				t.Fatal(err)
			}
			g, err := im.Finish()
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %q, want %q (%v)", got, tt.fields, err)
			}
			if err == nil && g.Total() != tt.total {
				t.Fatalf("total %d, want %d", g.Total(), tt.total)
			}
		})
	}
}

func TestImportCapsViolations(t *testing.T) {
	for _, rd := range readings {
		t.Run(rd.name, func(t *testing.T) {
			im := rd.personImport("2026-10-31", Limits{})
			_ = im.ReadCSV(strings.NewReader("kommunkod,boendeform,kön,födelsedatum\n" + strings.Repeat("0180,ABE,kvinna,1990-01-15\n", 500) +
				strings.Repeat("0000,ABE,kvinna,1990-01-15\n", 1000)))
			_, err := im.Finish()
			f := badrequest.Fields(err)
			if len(f) != MaxViolations || im.Rows != 500+MaxViolations {
				t.Fatalf("%d violations after %d rows, want reading to stop at %d", len(f), im.Rows, 500+MaxViolations)
			}
		})
	}
}

// TestParallelReadingMatchesSequential: a person import read in parallel
// counts what the sequential reader counts and finds the same mistakes on
// the same lines, stopping where it stops, whatever the size of the blocks.
func TestParallelReadingMatchesSequential(t *testing.T) {
	const ref = "2026-10-31"
	var clean strings.Builder
	clean.WriteString("kommunkod,boendeform,kön,födelsedatum\n")
	kommuner := []string{"0180", "1280", "2584", "0114", "1480"}
	for i := range 20000 {
		fmt.Fprintf(&clean, "%s,%s,%s,%d-%02d-%02d\n", kommuner[i%5], []string{"ABE", "EBO", "ÖVRIGT"}[i%3], []string{"kvinna", "man"}[i%2],
			1950+i%70, 1+i%12, 1+i%28)
	}
	lines := strings.SplitAfter(clean.String(), "\n")
	with := func(at map[int]string) string {
		out := slices.Clone(lines)
		for i, l := range at {
			out[i] = l
		}
		return strings.Join(out, "")
	}
	tests := []struct {
		name   string
		csv    string
		limits Limits
	}{
		{"clean", clean.String(), Limits{}},
		{"a few mistakes", with(map[int]string{3: "9999,ABE,man,1990-01-01\n", 12000: "0180,HVB,man,1990-01-01\n", 19999: "0180,ABE\n"}), Limits{}},
		{"quoted fields and blank lines", with(map[int]string{5: "\"0180\",ABE,man,1990-01-01\n", 7: "\r\n", 8000: "\n", 15000: " 0180 , ABE ,man, 1990-01-01 \r\n"}), Limits{}},
		{"broken quote", with(map[int]string{9000: "0180,\"ABE,man,1990-01-01\n"}), Limits{}},
		{"row limit", clean.String(), Limits{MaxRows: 12345}},
		{"size limit", clean.String(), Limits{MaxBytes: 300000}},
		{"a line longer than a block", with(map[int]string{100: strings.Repeat("x", 700) + "\n"}), Limits{}},
		{"no trailing newline", strings.TrimSuffix(clean.String(), "\n"), Limits{}},
	}
	type result struct {
		fields        []string
		total         int64
		rows, under18 int64
	}
	read := func(rd reading, csv string, l Limits) result {
		im := rd.personImport(ref, l)
		if err := im.ReadCSV(strings.NewReader(csv)); err != nil {
			t.Fatal(err)
		}
		g, err := im.Finish()
		return result{badrequest.Fields(err), g.Total(), im.Rows, im.Under18}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := read(readings[0], tt.csv, tt.limits)
			for _, rd := range []reading{{"parallel", 2, defaultBlockSize}, {"blocks of 4 kB", 3, 4096}, {"blocks of 100 bytes", 4, 100}} {
				if got := read(rd, tt.csv, tt.limits); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: %+v, sequential %+v", rd.name, got, want)
				}
			}
		})
	}
}

// TestImportStopsReadingAnEndlessStream: once enough is wrong, reading
// stops, in parallel too, with no more read ahead than a few blocks.
func TestImportStopsReadingAnEndlessStream(t *testing.T) {
	for _, rd := range readings {
		t.Run(rd.name, func(t *testing.T) {
			r := &endless{head: "kommunkod,boendeform,kön,födelsedatum\n", line: "0000,ABE,kvinna,1990-01-15\n"}
			im := rd.personImport("2026-10-31", Limits{})
			if err := im.ReadCSV(r); err != nil {
				t.Fatal(err)
			}
			if _, err := im.Finish(); len(badrequest.Fields(err)) != MaxViolations {
				t.Fatalf("Finish: %v, want %d violations", err, MaxViolations)
			}
			if r.read > 16<<20 {
				t.Fatalf("read %d bytes of an endless stream", r.read)
			}
		})
	}
}

// endless is a header, then the same line without end.
type endless struct {
	head, line string
	read       int
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	if e.read == 0 {
		n = copy(p, e.head)
	}
	for n+len(e.line) <= len(p) {
		n += copy(p[n:], e.line)
	}
	e.read += n
	return n, nil
}

// TestParallelReadingStopsOnBrokenStream: an error of the stream itself
// ends the import with that error, as in the sequential reader.
func TestParallelReadingStopsOnBrokenStream(t *testing.T) {
	broken := errors.New("stream broke")
	for _, rd := range readings {
		t.Run(rd.name, func(t *testing.T) {
			im := rd.personImport("2026-10-31", Limits{})
			r := io.MultiReader(strings.NewReader("kommunkod,boendeform,kön,födelsedatum\n"+strings.Repeat("0180,ABE,kvinna,1990-01-15\n", 5000)),
				iotest.ErrReader(broken))
			if err := im.ReadCSV(r); !errors.Is(err, broken) {
				t.Fatalf("ReadCSV = %v, want %v", err, broken)
			}
		})
	}
}

// TestImportsOfNobodyRefused: an import that would leave a snapshot with
// no adults is refused whatever the file held, and counts that could
// overflow a sum are refused by line and column.
func TestImportsOfNobodyRefused(t *testing.T) {
	tests := []struct {
		name    string
		persons bool
		csv     string
		fields  []string
	}{
		{"only zero counts", false, "kommunkod,boendeform,kön,åldersgrupp,antal\n0180,ABE,man,18-24,0\n0184,EBO,kvinna,65+,0\n", []string{"fil"}},
		{"only minors", true, "kommunkod,boendeform,kön,födelsedatum\n0180,ABE,man,2015-01-01\n0184,EBO,kvinna,2020-06-30\n", []string{"fil"}},
		{"header only", true, "kommunkod,boendeform,kön,födelsedatum\n", []string{"fil"}},
		{"counts that would overflow", false, "kommunkod,boendeform,kön,åldersgrupp,antal\n0180,ABE,man,18-24,9223372036854775807\n0184,EBO,kvinna,65+,9223372036854775807\n",
			[]string{"line 2, column antal", "line 3, column antal"}},
		{"a count beyond int64", false, "kommunkod,boendeform,kön,åldersgrupp,antal\n0180,ABE,man,18-24,9223372036854775808\n", []string{"line 2, column antal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im := NewCellImport("2026-10-31", Limits{})
			if tt.persons {
				im = NewPersonImport("2026-10-31", Limits{})
			}
			if err := im.ReadCSV(strings.NewReader(tt.csv)); err != nil {
				t.Fatal(err)
			}
			_, err := im.Finish()
			if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields %q, want %q (%v)", got, tt.fields, err)
			}
		})
	}
}

func TestAges(t *testing.T) {
	tests := []struct {
		birth string
		band  AgeBand // "" for under 18
	}{
		{"2008-10-31", Age18to24}, // 18 on the reference date
		{"2008-11-01", ""},        // 18 the day after
		{"2001-11-01", Age18to24}, // 24
		{"2001-10-31", Age25to34}, // 25
		{"1961-10-31", Age65Plus},
		{"1961-11-01", Age55to64},
		{"2000-02-29", Age25to34},
	}
	for _, tt := range tests {
		im := NewPersonImport("2026-10-31", Limits{})
		im.AddPerson("row", 1, "0180", HousingEBO, SexMan, tt.birth)
		// An adult elsewhere, so the import is not one of nobody.
		im.AddPerson("row", 2, "2584", HousingABE, SexKvinna, "1980-01-01")
		g, err := im.Finish()
		if err != nil {
			t.Fatal(err)
		}
		var cells []Cell
		for _, c := range g.Cells() {
			if c.KommunCode == "0180" {
				cells = append(cells, c)
			}
		}
		switch {
		case tt.band == "" && (len(cells) != 0 || im.Under18 != 1):
			t.Errorf("%s: counted %v, want under 18", tt.birth, cells)
		case tt.band != "" && (len(cells) != 1 || cells[0].AgeBand != tt.band):
			t.Errorf("%s: %v, want %s", tt.birth, cells, tt.band)
		}
	}
}
