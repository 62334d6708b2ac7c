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
//  3. On that support it takes the maximum-entropy distribution with mean 0
//     and variance max(Variance, the least variance a mean-0 distribution
//     on the support can have): p(d) ∝ exp(a·d + b·d²), a and b found by
//     Newton's method. (Counts of 1 and 2 cannot go to 1 or 2, so their
//     least variance is 2; at that bound the distribution is the two-point
//     one.) This is the ptable package's (sdcTools) construction.
//  4. The probabilities become whole numbers of keys adding up to
//     KeyRange with Σ count·d = 0 exactly, so every row is unbiased: of
//     the integer vectors within ±2 of KeyRange·p, the closest (least
//     squares) is taken, the first in order on ties.
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
		probs := maxEntropy(support, max(p.Variance, leastVariance(support)))
		counts := integerRow(support, probs, p.KeyRange)
		for i, d := range support {
			out[n][d+p.MaxNoise] = counts[i]
		}
	}
	return out
}

// leastVariance is the smallest variance of a mean-0 distribution on
// support: 0 when 0 is in it, else that of the two points nearest 0 on
// either side.
func leastVariance(support []int) float64 {
	lo, hi := math.MinInt, math.MaxInt
	for _, d := range support {
		switch {
		case d == 0:
			return 0
		case d < 0:
			lo = max(lo, d)
		default:
			hi = min(hi, d)
		}
	}
	return float64(-lo * hi)
}

// maxEntropy is the maximum-entropy distribution on support with mean 0 and
// variance v. At the least variance it is the two-point distribution.
func maxEntropy(support []int, v float64) []float64 {
	p := make([]float64, len(support))
	if lv := leastVariance(support); v <= lv+1e-12 && lv > 0 {
		lo, hi := 0, 0
		for _, d := range support {
			if d < 0 {
				lo = d
			} else if hi == 0 {
				hi = d
			}
		}
		for i, d := range support {
			switch d {
			case lo:
				p[i] = float64(hi) / float64(hi-lo)
			case hi:
				p[i] = float64(-lo) / float64(hi-lo)
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
		f1, f2 := m1, m2-v
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

// integerRow turns probabilities into counts adding up to keys with mean
// exactly 0, the least-squares closest within ±2 of keys·p.
func integerRow(support []int, p []float64, keys int) []int {
	base := make([]int, len(p))
	for i := range p {
		base[i] = int(math.Round(p[i] * float64(keys)))
	}
	best, bestErr := []int(nil), math.Inf(1)
	cur := make([]int, len(p))
	var walk func(i int)
	walk = func(i int) {
		if i == len(p) {
			sum, moment := 0, 0
			errSq := 0.0
			for j, c := range cur {
				sum += c
				moment += c * support[j]
				e := float64(c) - p[j]*float64(keys)
				errSq += e * e
			}
			if sum == keys && moment == 0 && errSq < bestErr-1e-12 {
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
