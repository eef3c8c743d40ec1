package lag

import (
	"context"
	"runtime/metrics"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLatenessCountsOnlyTheCall: wake-ups before the call, and the part of
// a late wake-up's wait before the call began, are not the call's.
func TestLatenessCountsOnlyTheCall(t *testing.T) {
	at := func(ms int64) time.Time { return time.Unix(0, ms*int64(time.Millisecond)) }
	p := New(50 * time.Millisecond)
	for _, s := range []struct{ at, late int64 }{{1000, 5}, {1100, 50}, {1300, 150}, {1400, 0}} {
		p.samples[p.next] = sample{at: at(s.at).UnixNano(), late: s.late * int64(time.Millisecond)}
		p.next++
		p.n++
	}
	assert.Equal(t, 200*time.Millisecond, p.Lateness(at(1050), at(1400)))
	assert.Equal(t, 100*time.Millisecond, p.Lateness(at(1200), at(1400)), "only the 100 ms of the wait after 1200")
	assert.Zero(t, p.Lateness(at(1500), at(1600)))
	p.due = at(1450).UnixNano()
	assert.Equal(t, 150*time.Millisecond, p.Lateness(at(1500), at(1650)), "a wake-up overdue since before the call: the call's part of it")
}

// TestProbeOnTime: while a call is in flight, an idle process's probe
// (simulated time: no run queue) wakes every period, measures no
// lateness, and stops with its context.
func TestProbeOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(0)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		synctest.Wait()
		start := time.Now()
		p.Begin()
		time.Sleep(10*time.Second + time.Millisecond)
		assert.Zero(t, p.Lateness(start, time.Now()))
		assert.Equal(t, 200, p.count())
		cancel()
		<-done
	})
}

// TestProbeSleepsWithoutCalls: no call in flight, no wake-up; a call
// shorter than a period wakes it neither; the wake-ups stop a period after
// the last call ends, and start again with the next.
func TestProbeSleepsWithoutCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(50 * time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go p.Run(ctx)
		time.Sleep(10 * time.Second)
		assert.Zero(t, p.count(), "idle: asleep")

		for range 100 { // answers from a cache: 10 ms each
			p.Begin()
			time.Sleep(10 * time.Millisecond)
			p.End()
		}
		synctest.Wait()
		assert.Zero(t, p.count(), "no call lasted a period")

		// Two calls overlapping, 0–1025 ms and 525–1560 ms, off the
		// wake-ups' beat: the second's Begin must not put the next wake-up
		// off, and the first's End must not stop them.
		p.Begin()
		time.Sleep(525 * time.Millisecond)
		p.Begin()
		time.Sleep(500 * time.Millisecond)
		p.End()
		time.Sleep(535 * time.Millisecond)
		p.End()
		assert.Equal(t, 31, p.count(), "a wake-up every 50 ms, 50 to 1550 ms")
		time.Sleep(10 * time.Second)
		assert.Equal(t, 31, p.count(), "asleep again")

		p.Begin()
		time.Sleep(time.Second + time.Millisecond)
		p.End()
		assert.Equal(t, 51, p.count(), "awake again with the next call")
	})
}

// TestCallsBeforeRun: calls that began before the probe ran are measured
// from its start.
func TestCallsBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(50 * time.Millisecond)
		p.Begin()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go p.Run(ctx)
		time.Sleep(time.Second + time.Millisecond)
		assert.Equal(t, 20, p.count())
		p.End()
	})
}

// TestFirstPeriodAfterSleepIsNotTheCalls: the runtime's scheduling
// latencies read at the first wake-up after a sleep span the sleep, not
// the call: they are left out of the average.
func TestFirstPeriodAfterSleepIsNotTheCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(50 * time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go p.Run(ctx)
		synctest.Wait()
		p.Begin()
		time.Sleep(200*time.Millisecond + time.Millisecond)
		p.End()
		require.Equal(t, 4, p.count())
		p.mu.Lock()
		defer p.mu.Unlock()
		assert.Equal(t, int64(-1), p.samples[0].sched, "the first wake-up's reading is left out")
		for i := 1; i < 4; i++ {
			assert.GreaterOrEqual(t, p.samples[i].sched, int64(0), "wake-up %d", i)
		}
	})
}

// TestSchedLatencyAveragesTheCallsPeriods: the goroutines' wait is the
// mean of the 90th percentiles of the periods that ended during the call.
func TestSchedLatencyAveragesTheCallsPeriods(t *testing.T) {
	at := func(ms int64) time.Time { return time.Unix(0, ms*int64(time.Millisecond)) }
	p := New(50 * time.Millisecond)
	for _, s := range []struct{ at, sched int64 }{{1000, 90}, {1050, 10}, {1100, 30}, {1150, 2}} {
		p.samples[p.next] = sample{at: at(s.at).UnixNano(), sched: s.sched * int64(time.Millisecond)}
		p.next++
		p.n++
	}
	assert.Equal(t, 14*time.Millisecond, p.SchedLatency(at(1020), at(1160)))
	assert.Zero(t, p.SchedLatency(at(1200), at(1300)), "no period ended")
	p.samples[p.next] = sample{at: at(1200).UnixNano(), sched: -1} // the first after a sleep
	p.next++
	p.n++
	assert.Zero(t, p.SchedLatency(at(1160), at(1300)), "only a period that is not measured")
	assert.Equal(t, 14*time.Millisecond, p.SchedLatency(at(1020), at(1300)))
}

// TestSchedP90ReadsTheRuntime: the runtime's histogram is there and read.
func TestSchedP90ReadsTheRuntime(t *testing.T) {
	p := New(0)
	p.read = []metrics.Sample{{Name: schedLatencies}}
	p.schedP90()
	require.NotEmpty(t, p.last, "the runtime has %s", schedLatencies)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { time.Sleep(time.Millisecond) })
	}
	wg.Wait()
	assert.GreaterOrEqual(t, p.schedP90(), int64(0))
}

// count is how many wake-ups the probe has recorded, read as the probe's
// goroutine writes it.
func (p *Probe) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}
