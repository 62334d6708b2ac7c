package statistics

import (
	"fmt"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/statistics/internal/domain"
)

// TestKeptAnswersAreBounded: the answers kept with a snapshot stay within
// maxCachedAnswers answers and maxCachedRows rows; an answer larger than
// that is not kept, and nothing is kept for a grid replaced meanwhile.
func TestKeptAnswersAreBounded(t *testing.T) {
	snap := domain.Snapshot{ReferenceDate: "2026-10-31", ImportTime: time.Unix(100, 0)}
	s := &Service{grids: map[string]cachedGrid{
		snap.ReferenceDate: {importTime: snap.ImportTime, answers: map[string]domain.Table{}},
	}}
	table := func(rows int) domain.Table { return domain.Table{Rows: make([]domain.Row, rows)} }
	kept := func() (answers, rows int) {
		c := s.grids[snap.ReferenceDate]
		for _, a := range c.answers {
			rows += len(a.Rows) + len(a.Subtotals)
		}
		if rows != c.answerRows {
			t.Fatalf("%d rows kept, counted %d", rows, c.answerRows)
		}
		return len(c.answers), rows
	}

	for i := range maxCachedAnswers + 5 {
		s.keep(snap, fmt.Sprint("small", i), table(21))
		if n, rows := kept(); n > maxCachedAnswers || rows > maxCachedRows {
			t.Fatalf("after %d answers: %d kept, %d rows", i+1, n, rows)
		}
	}
	s.keep(snap, "large", table(maxCachedRows/2+1))
	s.keep(snap, "larger", table(maxCachedRows/2+1))
	if n, rows := kept(); n != 1 || rows != maxCachedRows/2+1 {
		t.Fatalf("two large answers: %d kept, %d rows; want the last one alone", n, rows)
	}
	s.keep(snap, "too large", table(maxCachedRows+1))
	if _, hit := s.grids[snap.ReferenceDate].answers["too large"]; hit {
		t.Fatal("an answer over maxCachedRows was kept")
	}
	old := snap
	old.ImportTime = time.Unix(50, 0)
	s.keep(old, "stale", table(1))
	if _, hit := s.grids[snap.ReferenceDate].answers["stale"]; hit {
		t.Fatal("an answer of a replaced grid was kept")
	}
}
