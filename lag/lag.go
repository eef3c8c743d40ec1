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
//
// Only a call in flight needs the measurement, so the probe sleeps while
// none is: the fan-out says when each call begins and ends, and the probe
// asks for its first wake-up a period after the first call began. A call
// answered within a period (from a cache, say) never wakes it, and an idle
// instance pays nothing for it. That matters more than it seems: on a
// virtual machine a wake-up of an idle process costs over 100 µs of CPU
// (the runtime's own monitor wakes with it), and 20 of them a second were
// most of an idle replica's CPU (README, "Running more than one").
package lag

import (
	"context"
	"math"
	"runtime/metrics"
	"sync"
	"time"
)

// DefaultEvery is the probe's period while calls are in flight: 40 wake-ups
// over a 2 s source budget.
const DefaultEvery = 50 * time.Millisecond

// ring holds the last wake-ups: 1,024 at 50 ms is 51 s, longer than any
// source's budget.
const ring = 1024

type sample struct {
	at    int64 // unix nanos of the wake-up
	late  int64 // nanos past when it was due
	sched int64 // nanos: the 90th percentile of goroutines' waits to run since the last wake-up; -1 when not measured
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
	due     int64 // unix nanos of the next wake-up asked for; 0 when asleep or not running
	total   int64 // nanos of lateness since the start
	calls   int   // calls in flight (Begin less End)
	timer   *time.Timer
	rebase  bool // the next wake-up's scheduling latencies span a sleep: not the calls'

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

// Run wakes the probe every period while calls are in flight, until ctx
// ends.
func (p *Probe) Run(ctx context.Context) {
	p.read = []metrics.Sample{{Name: schedLatencies}}
	p.schedP90() // the baseline the first wake-up's delta starts from
	p.mu.Lock()
	p.timer = time.NewTimer(p.every)
	if p.calls == 0 {
		p.timer.Stop()
	} else {
		p.due = time.Now().Add(p.every).UnixNano()
	}
	t := p.timer
	p.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			t.Stop()
			p.timer, p.due = nil, 0
			p.mu.Unlock()
			return
		case <-t.C:
		}
		now := time.Now()
		sched := p.schedP90()
		p.mu.Lock()
		if p.rebase {
			sched, p.rebase = -1, false
		}
		late := int64(0)
		if p.due != 0 { // always, while the timer is armed; never a lateness since 1970
			late = max(now.UnixNano()-p.due, 0)
		}
		p.samples[p.next] = sample{at: now.UnixNano(), late: late, sched: sched}
		p.next = (p.next + 1) % ring
		p.n = min(p.n+1, ring)
		p.total += late
		p.due = 0
		if p.calls > 0 {
			p.due = now.Add(p.every).UnixNano()
			t.Reset(p.every)
		}
		p.mu.Unlock()
	}
}

// Begin says a call has begun: the probe wakes every period until the
// last call in flight ends.
func (p *Probe) Begin() {
	p.mu.Lock()
	p.calls++
	if p.calls == 1 && p.timer != nil && p.due == 0 {
		p.due = time.Now().Add(p.every).UnixNano()
		p.rebase = true
		p.timer.Reset(p.every)
	}
	p.mu.Unlock()
}

// End says a call that began has ended. When it was the last, the probe
// goes back to sleep: at once if it has not woken since, else after the
// wake-up under way.
func (p *Probe) End() {
	p.mu.Lock()
	p.calls--
	if p.calls == 0 && p.timer != nil && p.due != 0 && p.timer.Stop() {
		p.due = 0
	}
	p.mu.Unlock()
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
// probe's periods, averaged over the periods that ended in the interval
// (but the first after a sleep, which spans it). 0 when the probe has no
// such period.
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
		if s.at <= t && s.sched >= 0 {
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
