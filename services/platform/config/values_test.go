package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// TestTypedFlags: each typed flag takes its value, keeps its default when
// not given, prints the default flag.PrintDefaults shows, and refuses a
// wrong value in words an operator reads.
func TestTypedFlags(t *testing.T) {
	newSet := func() (*flag.FlagSet, *int, *int64, *time.Duration, *bool) {
		var (
			i int
			n int64
			d time.Duration
			b bool
		)
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		Int(fs, &i, "i", 3, "")
		Int64(fs, &n, "n", 4, "")
		Duration(fs, &d, "d", time.Minute, "")
		Bool(fs, &b, "b", false, "")
		return fs, &i, &n, &d, &b
	}

	fs, i, n, d, b := newSet()
	if *i != 3 || *n != 4 || *d != time.Minute || *b {
		t.Errorf("defaults: %v %v %v %v, want 3 4 1m0s false", *i, *n, *d, *b)
	}
	for name, want := range map[string]string{"i": "3", "n": "4", "d": "1m0s", "b": "false"} {
		if got := fs.Lookup(name).DefValue; got != want {
			t.Errorf("-%s default prints %q, want %q", name, got, want)
		}
	}
	if err := fs.Parse([]string{"-i", "7", "-n", "8000000000", "-d", "90s", "-b"}); err != nil {
		t.Fatal(err)
	}
	if *i != 7 || *n != 8000000000 || *d != 90*time.Second || !*b {
		t.Errorf("parsed: %v %v %v %v, want 7 8000000000 1m30s true", *i, *n, *d, *b)
	}

	for _, tc := range []struct{ args, want string }{
		{"-i=x", `not a whole number: "x"`},
		{"-n=1.5", `not a whole number: "1.5"`},
		{"-d=5", `not a duration such as 30s, 5m or 24h: "5"`},
		{"-b=maybe", `not true or false: "maybe"`},
	} {
		fs, _, _, _, _ := newSet()
		if err := fs.Parse([]string{tc.args}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %s", tc.args, err, tc.want)
		}
	}
}

func TestPositiveOr(t *testing.T) {
	if got := PositiveOr(5, 8); got != 5 {
		t.Errorf("PositiveOr(5, 8) = %d, want 5", got)
	}
	for _, n := range []int{0, -1} {
		if got := PositiveOr(n, 8); got != 8 {
			t.Errorf("PositiveOr(%d, 8) = %d, want the default 8", n, got)
		}
	}
	if got := PositiveOr(0, time.Minute); got != time.Minute {
		t.Errorf("PositiveOr(0, time.Minute) = %v, want 1m0s", got)
	}
}
