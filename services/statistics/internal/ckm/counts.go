package ckm

// Counts is the perturbation table: Counts[n][d+MaxNoise] is how many of the
// 256 cell keys give noise d (-3..3) to a cell of n people (n ≥ Cap uses
// row Cap). Generated once by Generate(DefaultParams) and committed, so that
// every figure stays the same across versions; TestCountsAreGenerated checks
// that they agree.
//
//	-3   -2   -1    0   +1   +2   +3
var Counts = [Cap + 1][2*MaxNoise + 1]int{
	0: {0, 0, 0, 256, 0, 0, 0},
	1: {0, 0, 171, 0, 0, 84, 1},
	2: {0, 86, 0, 0, 169, 0, 1},
	3: {20, 0, 0, 181, 50, 5, 0},
	4: {0, 0, 98, 86, 50, 18, 4},
	5: {0, 15, 64, 100, 61, 15, 1},
	6: {1, 14, 62, 102, 62, 14, 1},
}
