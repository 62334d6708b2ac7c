package gateway

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// callerLimits keeps a token bucket per caller (callerKey). A bucket that
// has been idle long enough to refill completely is the same as a new one,
// so it is dropped then: memory follows the callers of the last minutes,
// and a hard cap bounds it even under a flood of addresses.
type callerLimits struct {
	limit rate.Limit
	burst int
	idle  time.Duration // time to refill an empty bucket: evictable after
	max   int           // most buckets kept
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[[16]byte]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim      *rate.Limiter
	lastSeen time.Time
}

// newCallerLimits returns nil (no limit) when perSecond is 0 or less.
func newCallerLimits(perSecond float64, burst, maxCallers int) *callerLimits {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(math.Ceil(perSecond))
	}
	if maxCallers <= 0 {
		maxCallers = 100_000
	}
	idle := time.Duration(float64(burst) / perSecond * float64(time.Second))
	return &callerLimits{
		limit: rate.Limit(perSecond), burst: burst, idle: max(idle, time.Second), max: maxCallers,
		now: time.Now, buckets: map[[16]byte]*bucket{},
	}
}

// allow takes a token from key's bucket; when there is none it says how
// long until there is.
func (l *callerLimits) allow(key [16]byte) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idle {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.sweep(now)
			for k := range l.buckets { // still full: drop arbitrary callers
				if len(l.buckets) < l.max {
					break
				}
				delete(l.buckets, k)
			}
		}
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.lastSeen = now
	res := b.lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops the buckets idle for longer than it takes to refill them.
func (l *callerLimits) sweep(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.lastSeen) >= l.idle {
			delete(l.buckets, k)
		}
	}
}

// size is the number of buckets kept.
func (l *callerLimits) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
