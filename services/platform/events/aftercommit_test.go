package events

import (
	"context"
	"testing"
)

// TestAfterCommitHooks: outside a consumer transaction nothing is
// registered; inside, each hook runs once, after the commit.
func TestAfterCommitHooks(t *testing.T) {
	if AfterCommit(context.Background(), func() { t.Error("ran without a transaction") }) {
		t.Fatal("registered outside a consumer transaction")
	}
	ctx, hooks := withAfterCommit(context.Background())
	n := 0
	if !AfterCommit(ctx, func() { n++ }) {
		t.Fatal("not registered in a consumer transaction")
	}
	if n != 0 {
		t.Fatal("ran before the commit")
	}
	hooks.run()
	hooks.run()
	if n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
}
