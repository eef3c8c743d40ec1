package breaker

import "sync"

// window counts the calls that ended in the last Config.Window, by bucket,
// as the breaker judges them: calls, failures, and slow calls (slower than
// the source's threshold, or cut off by its deadline). Unlike gobreaker's
// own counts, a call counts when it ends, so a hung source's calls are not
// in the window as neither failed nor succeeded.
//
// It takes a mutex per call and allocates nothing.
type window struct {
	mu      sync.Mutex
	width   int64 // nanos a bucket spans
	buckets []bucket
}

type bucket struct {
	epoch                 int64 // the bucket's start / width; stale buckets are cleared when reused
	calls, failures, slow uint32
}

type counts struct{ calls, failures, slow uint32 }

func newWindow(span int64, n int) *window {
	n = max(n, 1)
	return &window{width: max(span/int64(n), 1), buckets: make([]bucket, n)}
}

func (w *window) add(now int64, failed, slow bool) {
	e := now / w.width
	w.mu.Lock()
	b := &w.buckets[e%int64(len(w.buckets))]
	if b.epoch != e {
		*b = bucket{epoch: e}
	}
	b.calls++
	if failed {
		b.failures++
	}
	if slow {
		b.slow++
	}
	w.mu.Unlock()
}

func (w *window) sum(now int64) counts {
	e := now / w.width
	var c counts
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.buckets {
		if b.epoch > e-int64(len(w.buckets)) && b.epoch <= e {
			c.calls += b.calls
			c.failures += b.failures
			c.slow += b.slow
		}
	}
	return c
}

func (w *window) reset() {
	w.mu.Lock()
	clear(w.buckets)
	w.mu.Unlock()
}
