// Package upcache keeps parsed upstream answers for a short time, keyed by
// the upstream request, so that consecutive pages of a walk and popular
// queries do not read and parse the same upstream page again, and so that
// identical calls made at once reach the upstream once.
package upcache

import (
	"context"
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
}

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
		v, err := fetch(context.WithoutCancel(ctx))
		if err == nil {
			c.put(key, v)
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

func (c *Cache[V]) put(key string, v V) {
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
	c.items[key] = item[V]{v: v, expires: now.Add(c.ttl)}
}

// Stats are how calls were answered: from the cache, by a fetch of their
// own, or by joining another caller's fetch.
func (c *Cache[V]) Stats() (hits, misses, joined uint64) {
	return c.hits.Load(), c.misses.Load(), c.joined.Load()
}
