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

// TestProbeOnTime: an idle process's probe (simulated time: no run queue)
// measures no lateness, and stops with its context.
func TestProbeOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(0)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		start := time.Now()
		time.Sleep(10*time.Second + time.Millisecond)
		assert.Zero(t, p.Lateness(start, time.Now()))
		assert.Equal(t, 200, p.n)
		cancel()
		<-done
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
