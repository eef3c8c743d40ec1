// Package lag measures how starved of CPU this process is: a probe
// goroutine asks to wake up at a steady period and records how late each
// wake-up came. A goroutine that is ready to run but waits (for a core the
// operating system gives to another process, for the Go scheduler's run
// queue, for a stop-the-world pause) makes every goroutine late the same
// way, including the ones reading upstream answers; the probe's lateness is
// that wait, measured.
//
// The fan-out asks it, when a call missed its deadline or was slow, whether
// this service was starved while the call ran: then the time was this
// service's to blame, not the upstream's.
package lag

import (
	"context"
	"math"
	"runtime/metrics"
	"sync"
	"time"
)

// DefaultEvery is the probe's period: 40 wake-ups over a 2 s source budget,
// at a cost too small to see (one timer and a few stores per wake-up).
const DefaultEvery = 50 * time.Millisecond

// ring holds the last wake-ups: 1,024 at 50 ms is 51 s, longer than any
// source's budget.
const ring = 1024

type sample struct {
	at    int64 // unix nanos of the wake-up
	late  int64 // nanos past when it was due
	sched int64 // nanos: the 90th percentile of goroutines' waits to run since the last wake-up
}

// schedLatencies is the runtime's histogram of the time goroutines spent
// ready to run before running. The probe's own wake-ups understate a long
// run queue: a goroutine woken by a timer is run next, ahead of the queue,
// so it waits at most for the running goroutine's time slice, while every
// other goroutine (those reading upstream answers among them) waits for
// the whole queue.
const schedLatencies = "/sched/latencies:seconds"

// Probe is one process's lag probe. Its zero value is not usable; New
// returns one. Before Run has been called it has no samples and says no
// call was starved.
type Probe struct {
	every time.Duration

	mu      sync.Mutex
	samples [ring]sample
	next    int
	n       int
	due     int64 // unix nanos of the next wake-up asked for; 0 when not running
	total   int64 // nanos of lateness since the start

	// Read on the probe's goroutine only.
	read []metrics.Sample
	last []uint64 // the histogram's counts at the last wake-up
}

// New returns a probe waking every period (DefaultEvery when 0).
func New(every time.Duration) *Probe {
	if every <= 0 {
		every = DefaultEvery
	}
	return &Probe{every: every}
}

// Run wakes the probe every period until ctx ends.
func (p *Probe) Run(ctx context.Context) {
	t := time.NewTimer(p.every)
	defer t.Stop()
	p.read = []metrics.Sample{{Name: schedLatencies}}
	p.schedP90() // the baseline the first wake-up's delta starts from
	p.mu.Lock()
	p.due = time.Now().Add(p.every).UnixNano()
	p.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.due = 0
			p.mu.Unlock()
			return
		case <-t.C:
		}
		now := time.Now()
		sched := p.schedP90()
		p.mu.Lock()
		late := max(now.UnixNano()-p.due, 0)
		p.samples[p.next] = sample{at: now.UnixNano(), late: late, sched: sched}
		p.next = (p.next + 1) % ring
		p.n = min(p.n+1, ring)
		p.total += late
		p.due = now.Add(p.every).UnixNano()
		p.mu.Unlock()
		t.Reset(p.every)
	}
}

// Lateness is how late the probe's wake-ups between from and to were, in
// total, counting a wake-up overdue at to as late by what it is overdue: a
// probe starved so badly that it has not run since the call began is the
// strongest evidence there is.
func (p *Probe) Lateness(from, to time.Time) time.Duration {
	f, t := from.UnixNano(), to.UnixNano()
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum int64
	for i := 1; i <= p.n; i++ {
		s := p.samples[(p.next-i+ring)%ring]
		if s.at < f {
			break
		}
		if s.at <= t {
			sum += min(s.late, s.at-f) // only the part of the wait inside the call
		}
	}
	if p.due != 0 && t > p.due {
		sum += t - max(p.due, f)
	}
	return time.Duration(sum)
}

// SchedLatency is how long goroutines ready to run waited for a core
// between from and to: the 90th percentile of their waits in each of the
// probe's periods, averaged over the periods that ended in the interval.
// 0 when the probe has no such period.
func (p *Probe) SchedLatency(from, to time.Time) time.Duration {
	f, t := from.UnixNano(), to.UnixNano()
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum, n int64
	for i := 1; i <= p.n; i++ {
		s := p.samples[(p.next-i+ring)%ring]
		if s.at < f {
			break
		}
		if s.at <= t {
			sum += s.sched
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return time.Duration(sum / n)
}

// schedP90 reads the runtime's scheduling latencies and returns the 90th
// percentile of those recorded since the last read (the upper bound of its
// bucket), 0 when none were.
func (p *Probe) schedP90() int64 {
	metrics.Read(p.read)
	if p.read[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0 // a runtime without the metric: the probe's lateness alone decides
	}
	h := p.read[0].Value.Float64Histogram()
	if len(p.last) != len(h.Counts) {
		p.last = make([]uint64, len(h.Counts))
		copy(p.last, h.Counts)
		return 0
	}
	var total uint64
	for i, c := range h.Counts {
		total += c - p.last[i]
	}
	var p90 int64
	if total > 0 {
		want, seen := total-total/10, uint64(0)
		for i, c := range h.Counts {
			seen += c - p.last[i]
			if seen >= want {
				upper := h.Buckets[i+1]
				if math.IsInf(upper, 1) {
					upper = h.Buckets[i]
				}
				p90 = int64(upper * float64(time.Second))
				break
			}
		}
	}
	copy(p.last, h.Counts)
	return p90
}

// Total is the lateness of every wake-up since the probe started, for a
// metrics counter: its rate is the share of time a goroutine ready to run
// could not.
func (p *Probe) Total() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.total)
}
