package fleet

import (
	"context"
	"math"
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
type Limiter struct {
	fleet *Fleet
	local ratelimit.Limiter
}

// NewLimiter returns a limiter on the fleet's Redis, falling back to local.
func NewLimiter(f *Fleet, local ratelimit.Limiter) *Limiter {
	return &Limiter{fleet: f, local: local}
}

// Take implements ratelimit.Limiter. Any error, an error reply included,
// is Redis failing the budget: it is counted as such and the share decides.
func (l *Limiter) Take(ctx context.Context, id string, r ratelimit.Rate, cost int) (ratelimit.Quota, error) {
	var res *redis_rate.Result
	err := l.fleet.Strict(ctx, func(ctx context.Context, rdb *redis.Client) (err error) {
		res, err = redis_rate.NewLimiter(rdb).AllowN(ctx, "lmn:"+id, gcra(r), cost)
		return err
	})
	if err != nil {
		return l.local.Take(ctx, id, Share(r, l.fleet.Size()), cost)
	}
	return quota(res, r, cost), nil
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
