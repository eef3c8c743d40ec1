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

	shared     Shared // nil: this process only
	sharedHits atomic.Uint64
}

// Shared is a second level the replicas of a fleet have in common: an
// answer one replica fetched serves the others for the rest of its time,
// so a popular query costs the upstream one call per period for the fleet.
// Get must give up within a few milliseconds; Set must not wait.
type Shared interface {
	Get(ctx context.Context, key string) (data []byte, ttl time.Duration, ok bool)
	Set(key string, data []byte, ttl time.Duration)
}

// Share adds a second level shared with other replicas; answers go there
// as JSON. Call it before the cache is used.
func (c *Cache[V]) Share(s Shared) { c.shared = s }

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
		if v, ttl, ok := c.fromShared(context.WithoutCancel(ctx), key); ok {
			c.put(key, v, ttl)
			return v, nil
		}
		v, err := fetch(context.WithoutCancel(ctx))
		if err == nil {
			c.put(key, v, c.ttl)
			c.toShared(key, v)
		}
		return v, err
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

// fromShared reads an answer another replica fetched, with its time left.
// An answer that does not decode is a miss: it is fetched again.
func (c *Cache[V]) fromShared(ctx context.Context, key string) (V, time.Duration, bool) {
	var v V
	if c.shared == nil {
		return v, 0, false
	}
	data, ttl, ok := c.shared.Get(ctx, key)
	if !ok || ttl <= 0 || json.Unmarshal(data, &v) != nil {
		return v, 0, false
	}
	c.sharedHits.Add(1)
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
