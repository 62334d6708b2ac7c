package events

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
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

// Deferred returns the value that the consumer's transaction applying the
// current event keeps under key, made with new(T) by the first handler that
// asks in that transaction. That first call also registers flush, which
// runs once with the value after the transaction's last handler and before
// its commit, in the transaction. A handler that writes a row per event
// thus collects the rows of a whole batch of events and writes them in one
// statement; rows it defers are not yet visible to the handlers of the
// events after it in the batch. key is compared as map keys are (an
// unexported type of the caller's package, as for context values). ok is
// false, and nothing is kept, when ctx is not a consumer handler's context:
// the caller then writes at once.
func Deferred[T any](ctx context.Context, key any, flush func(context.Context, *sqlx.Tx, *T) error) (value *T, ok bool) {
	h, ok := ctx.Value(afterCommitKey{}).(*afterCommitHooks)
	if !ok {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if v, ok := h.deferred[key]; ok {
		return v.(*T), true
	}
	v := new(T)
	if h.deferred == nil {
		h.deferred = map[any]any{}
	}
	h.deferred[key] = v
	h.flushes = append(h.flushes, func(ctx context.Context, tx *sqlx.Tx) error { return flush(ctx, tx, v) })
	return v, true
}

type afterCommitKey struct{}

// afterCommitHooks are the hooks of one consumer transaction: the deferred
// writes to flush before its commit and the functions to run after it.
type afterCommitHooks struct {
	mu       sync.Mutex
	fns      []func()
	deferred map[any]any
	flushes  []func(context.Context, *sqlx.Tx) error
}

// withAfterCommit gives ctx a fresh set of hooks for one transaction.
func withAfterCommit(ctx context.Context) (context.Context, *afterCommitHooks) {
	h := &afterCommitHooks{}
	return context.WithValue(ctx, afterCommitKey{}, h), h
}

// flush writes what the transaction's handlers deferred (Deferred), in the
// order they first asked, each once. A flush may register AfterCommit
// hooks, and defer further writes, which are flushed after it.
func (h *afterCommitHooks) flush(ctx context.Context, tx *sqlx.Tx) error {
	ctx = context.WithValue(ctx, afterCommitKey{}, h)
	for {
		h.mu.Lock()
		flushes := h.flushes
		h.flushes, h.deferred = nil, nil
		h.mu.Unlock()
		if len(flushes) == 0 {
			return nil
		}
		for _, f := range flushes {
			if err := f(ctx, tx); err != nil {
				return err
			}
		}
	}
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
