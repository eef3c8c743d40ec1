package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/lmn/aggregator/breaker"
)

// Timeline keeps, per breaker, a sample of its state and failure rate every
// few seconds over the last hour, for the status page's charts. It is
// bounded: a ring of span/every samples per source.
type Timeline struct {
	breakers []*breaker.Breaker
	every    time.Duration
	size     int

	mu    sync.Mutex
	rings map[string]*sampleRing
}

// Sample is a breaker at one moment.
type Sample struct {
	At          time.Time
	State       string
	FailureRate float64 // of the window; of the window that tripped it while open
	Rejected    uint64  // calls rejected since the process started
}

type sampleRing struct {
	buf  []Sample
	next int
	full bool
}

// NewTimeline samples breakers every `every` and keeps `span` of samples.
func NewTimeline(breakers []*breaker.Breaker, every, span time.Duration) *Timeline {
	t := &Timeline{breakers: breakers, every: every, size: max(int(span/every), 1), rings: map[string]*sampleRing{}}
	for _, b := range breakers {
		t.rings[b.Name()] = &sampleRing{buf: make([]Sample, t.size)}
	}
	return t
}

// Every is the time between samples.
func (t *Timeline) Every() time.Duration { return t.every }

// Run samples until ctx ends.
func (t *Timeline) Run(ctx context.Context) {
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	for {
		t.Record(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Record takes one sample of every breaker, stamped at.
func (t *Timeline) Record(at time.Time) {
	for _, b := range t.breakers {
		s := b.Snapshot(false)
		rate := s.FailureRate
		// gobreaker empties its window when it trips: an open breaker is
		// drawn at the rate that opened it, not at a reassuring 0%.
		if s.State == "open" && s.Trip != nil && s.Trip.Requests > 0 {
			rate = float64(s.Trip.Failures) / float64(s.Trip.Requests)
		}
		t.mu.Lock()
		r := t.rings[b.Name()]
		r.buf[r.next] = Sample{At: at, State: s.State, FailureRate: rate, Rejected: s.Rejected}
		r.next = (r.next + 1) % len(r.buf)
		r.full = r.full || r.next == 0
		t.mu.Unlock()
	}
}

// RejectedSince is how many calls source's breaker rejected from the first
// sample at or after since up to total, the count now; false when no sample
// is that recent.
func (t *Timeline) RejectedSince(source string, since time.Time, total uint64) (uint64, bool) {
	for _, s := range t.Samples(source) {
		if !s.At.Before(since) {
			return total - s.Rejected, true
		}
	}
	return 0, false
}

// Samples returns source's samples, oldest first.
func (t *Timeline) Samples(source string) []Sample {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rings[source]
	if r == nil {
		return nil
	}
	if !r.full {
		return append([]Sample(nil), r.buf[:r.next]...)
	}
	return append(append([]Sample(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}
