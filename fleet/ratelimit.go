package fleet

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/lmn/aggregator/ratelimit"
)

// Limiter keeps each key to its rate across the fleet: one GCRA budget per
// key in Redis, so N replicas grant a key its rate, not N times it. When
// Redis cannot be used (per-instance mode, or a command that failed) each
// replica counts on a budget of its own holding its share of the key's
// rate: the rate and burst divided by the fleet's size (Fleet.Size), so the
// fleet as a whole still grants about the key's rate (SPEC §9). A replica
// that never saw the others (Redis down since it started, no -fleet-size)
// knows of no one to share with and grants the whole rate.
//
// A round trip to Redis for every request was the largest part of what
// fleet mode cost in CPU (README, "Running more than one instance"). A key
// whose rate allows at least minLease requests per replica in leaseSpan is
// therefore counted in slices: a replica takes that many from the fleet's
// budget at once and grants them for at most leaseSpan, after which what
// is left is forgotten (spent: the fleet may grant a little less than the
// rate, never more). A second holds a replica's share of a busy key's
// traffic at its limit, so little is forgotten there; below its limit a
// key loses nothing it would have used. Keys with smaller rates are
// counted request by request.
type Limiter struct {
	fleet *Fleet
	local ratelimit.Limiter

	now    func() time.Time
	mu     sync.Mutex
	leases map[string]*lease // by key id; bounded by the keys configured
}

// A lease is requests taken from a key's fleet budget ahead of use.
const (
	leaseSpan = time.Second
	minLease  = 4
)

type lease struct {
	rate  ratelimit.Rate
	left  int // requests still to grant
	until time.Time
	q     ratelimit.Quota // the fleet's budget when it was taken, Remaining counting left
}

// NewLimiter returns a limiter on the fleet's Redis, falling back to local.
func NewLimiter(f *Fleet, local ratelimit.Limiter) *Limiter {
	return &Limiter{fleet: f, local: local, now: time.Now, leases: map[string]*lease{}}
}

// Take implements ratelimit.Limiter. Any error, an error reply included,
// is Redis failing the budget: it is counted as such and the share decides.
func (l *Limiter) Take(ctx context.Context, id string, r ratelimit.Rate, cost int) (ratelimit.Quota, error) {
	if q, ok := l.fromLease(id, r, cost); ok {
		return q, nil
	}
	slice := l.slice(r)
	if cost == 0 || slice <= cost {
		res, err := l.allow(ctx, id, r, cost, false)
		if err != nil {
			return l.local.Take(ctx, id, Share(r, l.fleet.Size()), cost)
		}
		return quota(res, r, cost), nil
	}
	// As many as a slice, as few as what is left: one round trip either
	// way, a budget nearly spent included.
	res, err := l.allow(ctx, id, r, slice, true)
	if err != nil {
		return l.local.Take(ctx, id, Share(r, l.fleet.Size()), cost)
	}
	got := res.Allowed
	q := quota(res, r, cost)
	left := got
	if q.Allowed {
		left -= cost
	}
	q.Remaining += left
	if left > 0 {
		l.mu.Lock()
		l.leases[id] = &lease{rate: r, left: left, until: l.now().Add(leaseSpan), q: q}
		l.mu.Unlock()
	}
	return q, nil
}

// allow spends n of the key's budget in Redis, or, atMost, as many of n as
// are left.
func (l *Limiter) allow(ctx context.Context, id string, r ratelimit.Rate, n int, atMost bool) (res *redis_rate.Result, err error) {
	err = l.fleet.Strict(ctx, func(ctx context.Context, rdb *redis.Client) (err error) {
		lim := redis_rate.NewLimiter(rdb)
		if atMost {
			res, err = lim.AllowAtMost(ctx, "lmn:"+id, gcra(r), n)
		} else {
			res, err = lim.AllowN(ctx, "lmn:"+id, gcra(r), n)
		}
		return err
	})
	return res, err
}

// slice is how many requests of r a replica takes at once: its share of
// what r allows in leaseSpan, at most its share of the burst; 0 (one at a
// time) below minLease.
func (l *Limiter) slice(r ratelimit.Rate) int {
	n := l.fleet.Size()
	s := min(int(r.PerSecond*leaseSpan.Seconds())/n, r.Burst/n)
	if s < minLease {
		return 0
	}
	return s
}

// fromLease grants cost requests from the key's lease, if one is held for
// this rate, has them left and has not expired.
func (l *Limiter) fromLease(id string, r ratelimit.Rate, cost int) (ratelimit.Quota, bool) {
	if cost == 0 {
		return ratelimit.Quota{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ls := l.leases[id]
	if ls == nil {
		return ratelimit.Quota{}, false
	}
	if ls.rate != r || ls.left < cost || !l.now().Before(ls.until) {
		delete(l.leases, id)
		return ratelimit.Quota{}, false
	}
	ls.left -= cost
	ls.q.Remaining -= cost
	return ls.q, true
}

// Share is one replica's part of r in a fleet of n: the rate divided by n,
// the burst too, rounded down but at least one request (a key must stay
// usable; with a burst smaller than the fleet the fleet may grant up to n
// at once, never n times the rate).
func Share(r ratelimit.Rate, n int) ratelimit.Rate {
	if n <= 1 {
		return r
	}
	return ratelimit.Rate{PerSecond: r.PerSecond / float64(n), Burst: max(1, r.Burst/n)}
}

// gcra states a rate in redis_rate's terms: one request per emission
// interval, so fractional rates (one every two seconds) are exact.
func gcra(r ratelimit.Rate) redis_rate.Limit {
	return redis_rate.Limit{Rate: 1, Period: time.Duration(float64(time.Second) / r.PerSecond), Burst: r.Burst}
}

// quota reads a GCRA answer in the terms of the RateLimit headers, rounding
// as the local limiter does: seconds up, requests down.
func quota(res *redis_rate.Result, r ratelimit.Rate, cost int) ratelimit.Quota {
	q := ratelimit.Quota{
		// With cost 0 (only looking) redis_rate allows 0 events; the look
		// itself is always allowed.
		Allowed:   res.Allowed >= cost && res.RetryAfter < 0,
		Limit:     r.Burst,
		Remaining: max(0, res.Remaining),
		Reset:     ceilSeconds(res.ResetAfter),
	}
	if cost == 0 {
		q.Allowed = true
	}
	if !q.Allowed {
		q.RetryAfter = max(1, ceilSeconds(res.RetryAfter))
	}
	return q
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds() - 1e-9))
}
