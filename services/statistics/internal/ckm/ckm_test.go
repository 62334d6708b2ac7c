package ckm

import (
	"math"
	"testing"
)

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
		want := Variance
		if n == 1 || n == 2 {
			want = 2 // the least a count that must leave 1 and 2 can have
		}
		if n > 0 && math.Abs(variance-want) > 0.05 {
			t.Errorf("count %d: variance %.3f, want about %.1f", n, variance, want)
		}
		if n <= Cap+1 {
			t.Logf("count %2d: mean %+.3f variance %.3f published exactly for %3d of %d keys", n, mean, variance, exact, KeyRange)
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
