// Command statistics-gen writes a deterministic person-level extract of the
// reception system as CSV (see package generate), e.g.
//
//	go run ./services/statistics/cmd/statistics-gen -adults 20000 -date 2026-10-31 -seed 1 > extract.csv
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tia-platform/tia/services/statistics/generate"
)

func main() {
	seed := flag.Uint64("seed", 1, "seed: the same seed gives the same file")
	adults := flag.Int("adults", 20000, "about this many adults (today's level; 180000 was the 2016 peak)")
	rows := flag.Int("rows", 0, "exactly this many people, children included (overrides -adults)")
	date := flag.String("date", "2026-10-31", "reference date, YYYY-MM-DD")
	out := flag.String("out", "", "file to write; standard output when empty")
	flag.Parse()
	n := *rows
	if n == 0 {
		n = generate.RowsForAdults(*adults)
	}
	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	if err := generate.Write(w, generate.Options{Seed: *seed, Rows: n, ReferenceDate: *date}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
