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
// key in Redis, so N replicas grant a key its rate, not N times it. While
// Redis is unreachable each replica falls back to its own budget (Local):
// a partner may then get up to N times its rate, which is better than
// refusing partners for our fault.
type Limiter struct {
	fleet *Fleet
	local ratelimit.Limiter
}

// NewLimiter returns a limiter on the fleet's Redis, falling back to local.
func NewLimiter(f *Fleet, local ratelimit.Limiter) *Limiter {
	return &Limiter{fleet: f, local: local}
}

// Take implements ratelimit.Limiter.
func (l *Limiter) Take(ctx context.Context, id string, r ratelimit.Rate, cost int) (ratelimit.Quota, error) {
	var res *redis_rate.Result
	err := l.fleet.Do(ctx, func(ctx context.Context, rdb *redis.Client) (err error) {
		res, err = redis_rate.NewLimiter(rdb).AllowN(ctx, "lmn:"+id, gcra(r), cost)
		return err
	})
	if err != nil {
		return l.local.Take(ctx, id, r, cost)
	}
	return quota(res, r, cost), nil
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
