// Package upcache keeps parsed upstream answers for a short time, keyed by
// the upstream request, so that consecutive pages of a walk and popular
// queries do not read and parse the same upstream page again, and so that
// identical calls made at once reach the upstream once.
package upcache

import (
	"context"
	"encoding/json"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Cache holds at most Max answers, each for TTL. Answers are shared between
// callers and must not be modified. Failures are never kept.
type Cache[V any] struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	items map[string]item[V]
	group singleflight.Group

	hits, misses, joined atomic.Uint64

	shared     Shared        // nil: this process only
	hold       time.Duration // longest fetch, how long a fleet-wide claim lasts
	sharedHits atomic.Uint64

	fleetJoined, fleetFellBack atomic.Uint64
}

// Shared is a second level the replicas of a fleet have in common: an
// answer one replica fetched serves the others for the rest of its time,
// so a popular query costs the upstream one call per period for the fleet.
//
// Claim looks for key's answer and, in the same step, takes key's fetch for
// the fleet for at most hold when there is none: one round trip, and no
// moment between looking and claiming when another replica's answer could
// arrive unseen and be fetched again. It must give up within a few
// milliseconds. Await waits, at most hold and while ctx lasts, for the
// fetching replica's answer; ok false (it failed, died, or the wait is
// over) means fetch. Set shares an answer fetched without a claim; it must
// not wait.
type Shared interface {
	Claim(ctx context.Context, key string, hold time.Duration) Claimed
	Await(ctx context.Context, key string, hold time.Duration) (data []byte, ttl time.Duration, ok bool)
	Set(key string, data []byte, ttl time.Duration)
}

// Claimed is what a Claim found: Data (with its time left), the answer
// another replica shared; or Release non-nil, this replica fetches, then
// gives Release the answer (nil if the fetch failed), which shares it at
// once and frees the key; or Taken, another replica is fetching it; or
// none of them (shared state unavailable): each replica fetches alone.
type Claimed struct {
	Data    []byte
	TTL     time.Duration
	Release func(data []byte, ttl time.Duration)
	Taken   bool
}

// Share adds a second level shared with other replicas; answers go there
// as JSON. hold is the longest a fetch takes (the upstream client's
// timeout): a replica waits no longer than that for another's fetch. Call
// it before the cache is used.
func (c *Cache[V]) Share(s Shared, hold time.Duration) { c.shared, c.hold = s, hold }

type item[V any] struct {
	v       V
	expires time.Time
}

// New returns a cache of at most max answers kept for ttl.
func New[V any](ttl time.Duration, max int) *Cache[V] {
	return &Cache[V]{ttl: ttl, max: max, items: make(map[string]item[V])}
}

// Get returns the answer kept for key, or calls fetch for it. Callers asking
// for the same key while a fetch runs wait for that fetch instead of making
// their own. The fetch is detached from its first caller's cancellation (the
// others still want the answer) and is bounded by the upstream client's own
// timeout; each caller stops waiting when its own context ends.
//
// A caller waiting on another's fetch is waiting on the upstream, and tells
// the context's httptrace hooks so (a request written, then answered), as
// the HTTP client would have: breakers can then tell a slow upstream from a
// busy service for every caller, not only for the one that fetched.
func (c *Cache[V]) Get(ctx context.Context, key string, fetch func(context.Context) (V, error)) (V, error) {
	now := time.Now()
	c.mu.Lock()
	it, ok := c.items[key]
	c.mu.Unlock()
	if ok && now.Before(it.expires) {
		c.hits.Add(1)
		return it.v, nil
	}
	if tr := httptrace.ContextClientTrace(ctx); tr != nil && tr.WroteRequest != nil && tr.GotFirstResponseByte != nil {
		tr.WroteRequest(httptrace.WroteRequestInfo{})
		defer tr.GotFirstResponseByte()
	}
	led := false
	ch := c.group.DoChan(key, func() (any, error) {
		led = true
		return c.fetchOnce(context.WithoutCancel(ctx), key, fetch)
	})
	var zero V
	select {
	case r := <-ch:
		if led {
			c.misses.Add(1)
		} else {
			c.joined.Add(1)
		}
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(V), nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// fetchOnce takes the answer another replica shared, or calls fetch, or,
// when another replica is already fetching key, waits for its answer
// instead: one upstream call for the fleet. A replica whose wait ends
// without an answer (the fetch failed, the replica died, Redis went away)
// fetches itself; failures are never shared, so each waiter gets a fresh
// answer or its own error.
func (c *Cache[V]) fetchOnce(ctx context.Context, key string, fetch func(context.Context) (V, error)) (V, error) {
	if c.shared != nil && c.hold > 0 {
		cl := c.shared.Claim(ctx, key, c.hold)
		switch {
		case cl.Data != nil:
			if v, ttl, ok := c.decode(cl.Data, cl.TTL, true); ok {
				c.sharedHits.Add(1)
				c.put(key, v, ttl)
				return v, nil
			}
		case cl.Release != nil:
			v, err := fetch(ctx)
			var data []byte
			if err == nil {
				c.put(key, v, c.ttl)
				data, _ = json.Marshal(v) // nil: not shared, the waiters fetch
			}
			cl.Release(data, c.ttl)
			return v, err
		case cl.Taken:
			data, ttl, ok := c.shared.Await(ctx, key, c.hold)
			if v, ttl, ok := c.decode(data, ttl, ok); ok {
				c.fleetJoined.Add(1)
				c.put(key, v, ttl)
				return v, nil
			}
			c.fleetFellBack.Add(1)
		}
	}
	v, err := fetch(ctx)
	if err == nil {
		c.put(key, v, c.ttl)
		c.toShared(key, v)
	}
	return v, err
}

// decode reads a shared answer; one that does not decode is a miss: it is
// fetched again.
func (c *Cache[V]) decode(data []byte, ttl time.Duration, ok bool) (V, time.Duration, bool) {
	var v V
	if !ok || ttl <= 0 || json.Unmarshal(data, &v) != nil {
		return v, 0, false
	}
	return v, min(ttl, c.ttl), true
}

func (c *Cache[V]) toShared(key string, v V) {
	if c.shared == nil {
		return
	}
	if data, err := json.Marshal(v); err == nil {
		c.shared.Set(key, data, c.ttl)
	}
}

// SharedHits counts fetches answered by another replica's answer.
func (c *Cache[V]) SharedHits() uint64 { return c.sharedHits.Load() }

// FleetWaits counts fetches that found another replica fetching the same
// answer: joined, answered by its fetch; fellBack, no answer came in time
// (that fetch failed or its replica died) and this replica fetched itself.
func (c *Cache[V]) FleetWaits() (joined, fellBack uint64) {
	return c.fleetJoined.Load(), c.fleetFellBack.Load()
}

func (c *Cache[V]) put(key string, v V, ttl time.Duration) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) >= c.max {
		for k, it := range c.items {
			if !now.Before(it.expires) {
				delete(c.items, k)
			}
		}
		for k := range c.items {
			if len(c.items) < c.max {
				break
			}
			delete(c.items, k) // still full of fresh answers: any one goes
		}
	}
	c.items[key] = item[V]{v: v, expires: now.Add(ttl)}
}

// Stats are how calls were answered: from the cache, by a fetch of their
// own, or by joining another caller's fetch.
func (c *Cache[V]) Stats() (hits, misses, joined uint64) {
	return c.hits.Load(), c.misses.Load(), c.joined.Load()
}
