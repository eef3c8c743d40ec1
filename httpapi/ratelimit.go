package httpapi

import (
	"context"
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/lmn/aggregator/ratelimit"
)

// The rate-limit vocabulary lives in package ratelimit, shared with the
// fleet's limiter; these names keep the API's code reading as before.
type (
	Rate    = ratelimit.Rate
	Quota   = ratelimit.Quota
	Limiter = ratelimit.Limiter
)

// LocalLimiter is a token bucket per key (golang.org/x/time/rate), in this
// process only.
type LocalLimiter struct {
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewLocalLimiter returns a limiter reading the time from now (time.Now
// outside tests).
func NewLocalLimiter(now func() time.Time) *LocalLimiter {
	return &LocalLimiter{now: now, buckets: map[string]*rate.Limiter{}}
}

// Take implements Limiter. Buckets exist only for known keys, so the map is
// bounded by the keys configured.
func (l *LocalLimiter) Take(_ context.Context, id string, r Rate, cost int) (Quota, error) {
	t := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[id]
	switch {
	case b == nil:
		b = rate.NewLimiter(rate.Limit(r.PerSecond), r.Burst)
		l.buckets[id] = b
	case b.Limit() != rate.Limit(r.PerSecond) || b.Burst() != r.Burst: // the keys file was reloaded
		b.SetLimitAt(t, rate.Limit(r.PerSecond))
		b.SetBurstAt(t, r.Burst)
	}
	return take(b, t, r, cost), nil
}

// take spends cost tokens of b at t and reads the budget left.
func take(b *rate.Limiter, t time.Time, r Rate, cost int) Quota {
	ok := b.AllowN(t, cost)
	tokens := b.TokensAt(t)
	q := Quota{Allowed: ok, Limit: r.Burst, Remaining: max(0, int(math.Floor(tokens+1e-9)))}
	q.Reset = ceilSeconds((float64(r.Burst) - tokens) / r.PerSecond)
	if !ok {
		q.RetryAfter = max(1, ceilSeconds((float64(cost)-tokens)/r.PerSecond))
	}
	return q
}

// ceilSeconds rounds up to whole seconds, tolerating float noise so that
// exactly one second is 1, not 2.
func ceilSeconds(s float64) int {
	if s <= 1e-9 {
		return 0
	}
	return int(math.Ceil(s - 1e-9))
}

// Failed-key throttle: an address may present this many unknown keys at
// once, then one more every failedKeyEvery. Past that it gets 429 without
// its key being looked at, so keys cannot be guessed at line rate.
const (
	failedKeyBurst    = 10
	failedKeyEvery    = 6 * time.Second
	failedKeyMaxAddrs = 1 << 16
)

// failThrottle counts failed key attempts per client address (per /64 for
// IPv6, where one client holds a whole range).
type failThrottle struct {
	now func() time.Time

	mu      sync.Mutex
	buckets map[netip.Prefix]*rate.Limiter
}

func newFailThrottle(now func() time.Time) *failThrottle {
	return &failThrottle{now: now, buckets: map[netip.Prefix]*rate.Limiter{}}
}

func addrBucket(a netip.Addr) netip.Prefix {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// blocked reports whether addr has used up its failed attempts, and the
// seconds until it may try again.
func (f *failThrottle) blocked(addr netip.Addr) (bool, int) {
	t := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[addrBucket(addr)]
	if b == nil || b.TokensAt(t) >= 1 {
		return false, 0
	}
	return true, max(1, ceilSeconds((1-b.TokensAt(t))*failedKeyEvery.Seconds()))
}

// fail records a failed attempt from addr.
func (f *failThrottle) fail(addr netip.Addr) {
	t := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	k := addrBucket(addr)
	b := f.buckets[k]
	if b == nil {
		if len(f.buckets) >= failedKeyMaxAddrs {
			// Bounded memory under a spread attack: forgetting every address
			// costs at most one more burst from each.
			clear(f.buckets)
		}
		b = rate.NewLimiter(rate.Every(failedKeyEvery), failedKeyBurst)
		f.buckets[k] = b
	}
	b.AllowN(t, 1)
}
