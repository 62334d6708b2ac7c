package events

import (
	"context"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"
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

// TestDeferred: outside a consumer transaction nothing is kept; inside,
// every call for a key gets the same value, and its flush runs once, at
// flush time, in the order the keys were first asked for.
func TestDeferred(t *testing.T) {
	type a struct{}
	type b struct{}
	var order []string
	flushA := func(_ context.Context, _ *sqlx.Tx, v *[]int) error {
		order = append(order, fmt.Sprint("a", *v))
		return nil
	}
	flushB := func(_ context.Context, _ *sqlx.Tx, v *string) error { order = append(order, "b"+*v); return nil }
	if _, ok := Deferred(context.Background(), a{}, flushA); ok {
		t.Fatal("kept outside a consumer transaction")
	}
	ctx, hooks := withAfterCommit(context.Background())
	for i := range 3 {
		v, ok := Deferred(ctx, a{}, flushA)
		if !ok {
			t.Fatal("not kept in a consumer transaction")
		}
		*v = append(*v, i)
		if i == 1 {
			s, _ := Deferred(ctx, b{}, flushB)
			*s = "x"
		}
	}
	if len(order) != 0 {
		t.Fatal("flushed before flush time")
	}
	if err := hooks.flush(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := hooks.flush(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(order); got != "[a[0 1 2] bx]" {
		t.Errorf("flushes ran as %s, want [a[0 1 2] bx]", got)
	}
}
