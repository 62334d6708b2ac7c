package domain

import (
	"math/rand/v2"
	"testing"
)

func benchGrid() Grid {
	g := NewGrid()
	r := rand.New(rand.NewPCG(1, 2))
	for range 180000 {
		g[r.IntN(len(g))]++
	}
	return g
}

func BenchmarkSumLanTabulate(b *testing.B) {
	g := benchGrid()
	q := Query{GroupBy: []Dimension{DimLan}}
	for b.Loop() {
		Tabulate(g.Sum(q), q.GroupBy, true)
	}
}

func BenchmarkSumLanHousingTabulate(b *testing.B) {
	g := benchGrid()
	q := Query{GroupBy: []Dimension{DimLan, DimHousing}}
	for b.Loop() {
		Tabulate(g.Sum(q), q.GroupBy, true)
	}
}
