package ckm

import "testing"

func TestCountsAreGenerated(t *testing.T) {
	gen := Generate(DefaultParams)
	for n := range Counts {
		for j := range Counts[n] {
			if gen[n][j] != Counts[n][j] {
				t.Fatalf("row %d: committed %v, Generate gives %v", n, Counts[n], gen[n])
			}
		}
	}
}

// TestTable checks the promises of the perturbation table for every count
// and key, and prints each row's mean, variance and chance of no noise.
func TestTable(t *testing.T) {
	for n := int64(0); n <= 40; n++ {
		var sum, sumSq float64
		exact := 0
		for k := range KeyRange {
			p := Perturb(n, Key(k))
			d := p - n
			switch {
			case n == 0 && p != 0:
				t.Fatalf("0 published as %d", p)
			case p < 0 || p == 1 || p == 2:
				t.Fatalf("count %d key %d published as %d", n, k, p)
			case d < -MaxNoise || d > MaxNoise:
				t.Fatalf("count %d key %d: noise %d beyond ±%d", n, k, d, MaxNoise)
			}
			if d == 0 {
				exact++
			}
			sum += float64(d)
			sumSq += float64(d * d)
		}
		mean, variance := sum/KeyRange, sumSq/KeyRange
		if mean != 0 {
			t.Errorf("count %d: mean noise %g, want 0 (unbiased)", n, mean)
		}
		lo, hi := Variance-0.05, Variance+0.05
		if n == 1 || n == 2 {
			// The least a count that must leave 1 and 2 can have is 2 (two
			// points); a key for every other allowed figure adds up to 0.1.
			lo, hi = 2, 2.1
		}
		if n > 0 && (variance < lo || variance > hi) {
			t.Errorf("count %d: variance %.3f, want %.2f to %.2f", n, variance, lo, hi)
		}
		if n <= Cap+1 {
			t.Logf("count %2d: mean %+.3f variance %.3f published exactly for %3d of %d keys", n, mean, variance, exact, KeyRange)
		}
	}
}

// TestNeighbours checks what the audit in domain.Publish relies on, for
// every count and key: a figure of n people could also be the figure of
// n+1 people unless its noise is -MaxNoise, and of n-1 people unless its
// noise is +MaxNoise or n is 1 and the figure is not 0. (A row without a
// key for some allowed noise would break this: before full support, a 2
// could not be published as 4, so a 1 published as 4 was neither 0 nor 2.)
// A lifted figure could come from n-1, n and n+1.
func TestNeighbours(t *testing.T) {
	for n := int64(1); n <= 40; n++ {
		for k := range KeyRange {
			y := Perturb(n, Key(k))
			d := y - n
			if !Possible(n, y) {
				t.Fatalf("count %d key %d: figure %d not possible", n, k, y)
			}
			if got, want := Possible(n+1, y), d != -MaxNoise; got != want {
				t.Errorf("count %d, figure %d: possible from %d is %v, want %v", n, y, n+1, got, want)
			}
			if got, want := Possible(n-1, y), d != MaxNoise && (n > 1 || y == 0); got != want {
				t.Errorf("count %d, figure %d: possible from %d is %v, want %v", n, y, n-1, got, want)
			}
			if d == -MaxNoise {
				l := Lift(n)
				if l <= y || !Possible(n-1, l) || !Possible(n, l) || !Possible(n+1, l) {
					t.Errorf("count %d: lifted from %d to %d, not possible from %d, %d and %d", n, y, l, n-1, n, n+1)
				}
			}
		}
	}
	for n := range Counts {
		for j, c := range Counts[n] {
			if y := int64(n + j - MaxNoise); c == 0 && n > 0 && y >= 0 && (y == 0 || y >= Threshold) {
				t.Errorf("count %d can be published as %d but has no key for it", n, y)
			}
		}
	}
}

// TestKeysUniform: a source's keys, and sums of them, are uniform modulo
// KeyRange (chi-square over 256 bins, a bound about four standard deviations out).
func TestKeysUniform(t *testing.T) {
	s := NewKeySource()
	const draws = 256 * 400
	for _, per := range []int{1, 3} {
		var bins [KeyRange]int
		for range draws {
			var k Key
			for range per {
				k += s.Next()
			}
			bins[k]++
		}
		chi := 0.0
		for _, b := range bins {
			e := float64(draws) / KeyRange
			chi += (float64(b) - e) * (float64(b) - e) / e
		}
		t.Logf("sums of %d keys: chi-square %.1f over 255 degrees of freedom", per, chi)
		if chi > 345 {
			t.Fatalf("keys not uniform: chi-square %.1f", chi)
		}
	}
	a, b := NewKeySource(), NewKeySource()
	same := 0
	for range 64 {
		if a.Next() == b.Next() {
			same++
		}
	}
	if same > 8 {
		t.Fatalf("two sources agree on %d of 64 keys: not independently seeded", same)
	}
}
