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
	at   int64 // unix nanos of the wake-up
	late int64 // nanos past when it was due
}

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
		p.mu.Lock()
		late := max(now.UnixNano()-p.due, 0)
		p.samples[p.next] = sample{at: now.UnixNano(), late: late}
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

// Total is the lateness of every wake-up since the probe started, for a
// metrics counter: its rate is the share of time a goroutine ready to run
// could not.
func (p *Probe) Total() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.total)
}
