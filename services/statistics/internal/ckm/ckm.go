// Package ckm is the cell-key method of disclosure control (the ABS
// TableBuilder's and ONS Cantabular's): every person gets a random record
// key when counted; a cell's key is the sum of its persons' keys modulo
// KeyRange; and a fixed perturbation table says, for the cell's count and
// key, how much noise its published figure carries. The noise depends only
// on the cell (the people in it), never on the query that produced it, so
// asking again, or another way, gives the same figure: repeated or
// differently shaped queries cannot be averaged to cancel it.
//
// Keys add up like counts, which is what lets the service keep, per finest
// cell, only a count and a key sum: persons are never stored. docs/
// disclosure-control.md justifies the parameters.
package ckm

import (
	crand "crypto/rand"
	"math/rand/v2"
)

// Parameters of the perturbation table. Changing one changes every
// published figure; Generate(DefaultParams) must reproduce Counts.
const (
	// KeyRange is the number of record keys: keys are 0..255, and a uint8
	// adds them modulo 256 by itself.
	KeyRange = 256
	// MaxNoise (D) bounds the noise: a published figure is within ±3 of the
	// true count.
	MaxNoise = 3
	// Threshold is the smallest positive figure published: 1 and 2 are never
	// published (such counts go to 0 or to 3 and above).
	Threshold = 3
	// Variance (V) is the noise variance aimed at for counts of 3 and more;
	// counts of 1 and 2 need at least 2 (see Generate).
	Variance = 1.0
	// Cap is the last row of the table: every count from Cap up uses it (the
	// rows would all be the same: ±MaxNoise stays clear of 1 and 2).
	Cap = 6
)

// Key is a record key or a cell key. Arithmetic on it is modulo KeyRange.
type Key = uint8

// noise[n][k] is the perturbation of a cell with count n (up to Cap) and
// cell key k, built from Counts.
var noise = func() (t [Cap + 1][KeyRange]int8) {
	for n, row := range Counts {
		k := 0
		for j, c := range row {
			for range c {
				t[n][k] = int8(j - MaxNoise)
				k++
			}
		}
		if k != KeyRange {
			panic("ckm: a row of Counts does not add up to KeyRange")
		}
	}
	return t
}()

// Noise is the perturbation of a cell with n people and cell key k.
func Noise(n int64, k Key) int64 {
	if n <= 0 {
		return 0
	}
	return int64(noise[min(n, Cap)][k])
}

// Perturb is the figure published for a cell with n people and cell key k:
// never negative, never 1 or 2, 0 for 0, and within MaxNoise of n.
func Perturb(n int64, k Key) int64 {
	if n <= 0 {
		return 0
	}
	return n + int64(noise[min(n, Cap)][k])
}

// Possible reports whether a cell of n people can be published as y: what
// a reader who knows the table can rule out.
func Possible(n, y int64) bool {
	switch d := y - n; {
	case n < 0:
		return false
	case n == 0:
		return y == 0
	default:
		return d >= -MaxNoise && d <= MaxNoise && Counts[min(n, Cap)][d+MaxNoise] > 0
	}
}

// Lift is the figure given instead of Perturb's to a cell of n people
// whose noise is -MaxNoise when the audit (domain.Publish) finds that this
// edge pins a small group: the next figure up that row n allows. Every row
// has full support (Generate), so a lifted figure could also come from
// n-1 and from n+1 people: a lifted cell pins nothing.
func Lift(n int64) int64 {
	for d := -MaxNoise + 1; d <= MaxNoise; d++ {
		if Counts[min(n, Cap)][d+MaxNoise] > 0 {
			return n + int64(d)
		}
	}
	return n
}

// RandomKey is a cell key for a pre-aggregated cell of n people, whose
// persons' keys are not known: a sum of n ≥ 1 independent uniform keys
// modulo KeyRange is itself uniform, so one draw stands for them.
func (s *KeySource) RandomKey(n int64) Key {
	if n <= 0 {
		return 0
	}
	return s.Next()
}

// KeySource draws record keys. Keys must not be predictable (whoever could
// predict them could undo the noise), so each source is a ChaCha8 stream
// seeded from the operating system; it draws eight keys per 64-bit word, so
// a million people cost a few milliseconds.
type KeySource struct {
	r    *rand.ChaCha8
	word uint64
	left int
}

// NewKeySource returns a source seeded from crypto/rand.
func NewKeySource() *KeySource {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		// crypto/rand.Read does not fail on supported platforms (Go 1.24+).
		panic(err)
	}
	return &KeySource{r: rand.NewChaCha8(seed)}
}

// Next is a uniform key in 0..KeyRange-1.
func (s *KeySource) Next() Key {
	if s.left == 0 {
		s.word, s.left = s.r.Uint64(), 8
	}
	k := Key(s.word)
	s.word >>= 8
	s.left--
	return k
}

// NewSeededKeySource is a source with a fixed seed, for tests and the
// benchmark only: its keys are predictable.
func NewSeededKeySource(seed [32]byte) *KeySource { return &KeySource{r: rand.NewChaCha8(seed)} }
