package events

import (
	"context"
	"sync"
)

// AfterCommit registers fn to run once the consumer's transaction that
// applies the current event has committed: a handler that wrote rows
// another worker picks up (a delivery queue, say) wakes that worker then,
// instead of sleeping a guessed time for the commit. It reports false, and
// does not register fn, when ctx is not a consumer handler's context; fn is
// dropped when the transaction rolls back. Hooks run on the consumer's
// goroutine and must not block.
func AfterCommit(ctx context.Context, fn func()) bool {
	h, ok := ctx.Value(afterCommitKey{}).(*afterCommitHooks)
	if !ok {
		return false
	}
	h.mu.Lock()
	h.fns = append(h.fns, fn)
	h.mu.Unlock()
	return true
}

type afterCommitKey struct{}

// afterCommitHooks are the hooks of one consumer transaction.
type afterCommitHooks struct {
	mu  sync.Mutex
	fns []func()
}

// withAfterCommit gives ctx a fresh set of hooks for one transaction.
func withAfterCommit(ctx context.Context) (context.Context, *afterCommitHooks) {
	h := &afterCommitHooks{}
	return context.WithValue(ctx, afterCommitKey{}, h), h
}

// run calls the hooks after a commit, each once.
func (h *afterCommitHooks) run() {
	h.mu.Lock()
	fns := h.fns
	h.fns = nil
	h.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}
