package ckm

import "math"

// Params describe a perturbation table.
type Params struct {
	KeyRange, MaxNoise, Threshold, Cap int
	Variance                           float64
}

// DefaultParams are the constants of this package.
var DefaultParams = Params{KeyRange: KeyRange, MaxNoise: MaxNoise, Threshold: Threshold, Cap: Cap, Variance: Variance}

// Generate builds the perturbation table for p: row n (0..Cap) holds how
// many of the KeyRange cell keys give each noise -MaxNoise..MaxNoise. The
// algorithm, deterministic (no seed needed):
//
//  1. Row 0 is all 0: an empty cell stays empty.
//  2. Row n may only use noises d with |d| ≤ MaxNoise, n+d ≥ 0, and n+d
//     either 0 or at least Threshold (1 and 2 are never published).
//  3. Every noise row n may use gets one key (full support). So a figure a
//     count could give can also come from the count one more (unless the
//     noise is -MaxNoise) and from the count one less (unless the noise is
//     +MaxNoise, or the count is 1 and the figure is not 0): the table has
//     no holes that would pin a small cell (docs/disclosure-control.md;
//     TestNeighbours checks this for every count and key).
//  4. The other keys follow the maximum-entropy distribution on the same
//     noises, p(d) ∝ exp(a·d + b·d²), a and b found by Newton's method,
//     with the mean and variance that make the whole row's mean 0 and its
//     variance max(Variance, the least the row can have). (Counts of 1 and
//     2 cannot go to 1 or 2, so their least variance is about 2, reached by
//     two points.) This is the ptable package's (sdcTools) construction,
//     plus step 3.
//  5. The probabilities become whole numbers of keys, so that with the
//     keys of step 3 they add up to KeyRange with Σ count·d = 0 exactly
//     (every row is unbiased): of the integer vectors within ±2 of the
//     target counts, the closest (least squares) is taken, the first in
//     order on ties.
func Generate(p Params) [][]int {
	width := 2*p.MaxNoise + 1
	out := make([][]int, p.Cap+1)
	for n := range out {
		out[n] = make([]int, width)
		if n == 0 {
			out[n][p.MaxNoise] = p.KeyRange
			continue
		}
		var support []int
		for d := -p.MaxNoise; d <= p.MaxNoise; d++ {
			v := n + d
			if v >= 0 && (v == 0 || v >= p.Threshold) {
				support = append(support, d)
			}
		}
		// One key for each noise; the other keys must bring the row's
		// mean to 0 and its variance to Variance.
		rest, sum, sumSq := p.KeyRange-len(support), 0, 0
		for _, d := range support {
			sum += d
			sumSq += d * d
		}
		mean := float64(-sum) / float64(rest)
		variance := (p.Variance*float64(p.KeyRange)-float64(sumSq))/float64(rest) - mean*mean
		probs := maxEntropy(support, mean, max(variance, leastVariance(support, mean)))
		counts := integerRow(support, probs, rest, -sum)
		for i, d := range support {
			out[n][d+p.MaxNoise] = 1 + counts[i]
		}
	}
	return out
}

// leastVariance is the smallest variance of a distribution on support
// with the given mean: that of the two points nearest it on either side
// (0 when the mean is a point of the support).
func leastVariance(support []int, mean float64) float64 {
	lo, hi := bracket(support, mean)
	return (mean - float64(lo)) * (float64(hi) - mean)
}

// bracket returns the points of support (ascending) nearest mean: the
// last at or below it and the first at or above it.
func bracket(support []int, mean float64) (lo, hi int) {
	lo, hi = support[0], support[len(support)-1]
	for i := range support {
		if float64(support[i]) <= mean {
			lo = support[i]
		}
		if j := len(support) - 1 - i; float64(support[j]) >= mean {
			hi = support[j]
		}
	}
	return lo, hi
}

// maxEntropy is the maximum-entropy distribution on support with the
// given mean and variance v. At the least variance it is the two-point
// distribution.
func maxEntropy(support []int, mean, v float64) []float64 {
	p := make([]float64, len(support))
	if v <= leastVariance(support, mean)+1e-12 {
		lo, hi := bracket(support, mean)
		for i, d := range support {
			switch {
			case lo == hi && d == lo:
				p[i] = 1
			case d == lo:
				p[i] = (float64(hi) - mean) / float64(hi-lo)
			case d == hi:
				p[i] = (mean - float64(lo)) / float64(hi-lo)
			}
		}
		return p
	}
	a, b := 0.0, -0.5
	for range 200 {
		var z, m1, m2, m3, m4 float64
		for i, d := range support {
			x := float64(d)
			w := math.Exp(a*x + b*x*x)
			p[i] = w
			z += w
		}
		for i, d := range support {
			x := float64(d)
			p[i] /= z
			m1 += p[i] * x
			m2 += p[i] * x * x
			m3 += p[i] * x * x * x
			m4 += p[i] * x * x * x * x
		}
		f1, f2 := m1-mean, m2-(v+mean*mean)
		if math.Abs(f1) < 1e-13 && math.Abs(f2) < 1e-13 {
			break
		}
		// Jacobian: the covariance of (d, d²).
		j11, j12, j22 := m2-m1*m1, m3-m1*m2, m4-m2*m2
		det := j11*j22 - j12*j12
		da := (f1*j22 - f2*j12) / det
		db := (j11*f2 - j12*f1) / det
		step := 1.0
		for math.Abs(step*da) > 2 || math.Abs(step*db) > 2 {
			step /= 2
		}
		a -= step * da
		b -= step * db
	}
	return p
}

// integerRow turns probabilities into counts adding up to keys with
// Σ count·d = moment, the least-squares closest within ±2 of keys·p.
func integerRow(support []int, p []float64, keys, moment int) []int {
	base := make([]int, len(p))
	for i := range p {
		base[i] = int(math.Round(p[i] * float64(keys)))
	}
	best, bestErr := []int(nil), math.Inf(1)
	cur := make([]int, len(p))
	var walk func(i int)
	walk = func(i int) {
		if i == len(p) {
			sum, m := 0, 0
			errSq := 0.0
			for j, c := range cur {
				sum += c
				m += c * support[j]
				e := float64(c) - p[j]*float64(keys)
				errSq += e * e
			}
			if sum == keys && m == moment && errSq < bestErr-1e-12 {
				best, bestErr = append([]int(nil), cur...), errSq
			}
			return
		}
		for adj := -2; adj <= 2; adj++ {
			if c := base[i] + adj; c >= 0 {
				cur[i] = c
				walk(i + 1)
			}
		}
	}
	walk(0)
	if best == nil {
		panic("ckm: no unbiased integer row near the target")
	}
	return best
}
