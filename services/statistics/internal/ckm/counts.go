package ckm

// Counts is the perturbation table: Counts[n][d+MaxNoise] is how many of the
// 256 cell keys give noise d (-3..3) to a cell of n people (n ≥ Cap uses
// row Cap); every noise a row may use has at least one key. Generated once
// by Generate(DefaultParams) and committed, so that every figure stays the
// same across versions; TestCountsAreGenerated checks that they agree.
//
//	-3   -2   -1    0   +1   +2   +3
var Counts = [Cap + 1][2*MaxNoise + 1]int{
	0: {0, 0, 0, 256, 0, 0, 0},
	1: {0, 0, 171, 0, 0, 84, 1},
	2: {0, 87, 0, 0, 166, 1, 2},
	3: {20, 0, 0, 183, 47, 5, 1},
	4: {0, 0, 97, 88, 49, 18, 4},
	5: {0, 15, 63, 102, 61, 13, 2},
	6: {2, 13, 61, 104, 61, 13, 2},
}
