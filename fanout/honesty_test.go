package fanout

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// hang is an upstream call that never answers: it returns only when its
// deadline passes. Where it stopped does not matter to the blame.
func hang(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestHungSourceTripsWithinOneTimeout sends a request every 10 ms to a
// source that never answers. Counting a call when it starts and its failure
// only when it ends would keep the failure rate under half until twice the
// timeout; the breaker must open within 1.2× the timeout, and no call may
// cost more than the timeout.
func TestHungSourceTripsWithinOneTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 2 * time.Second
		var openedAt time.Time
		b := breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{OnTransition: func(tr breaker.Transition) {
			if tr.To == "open" && openedAt.IsZero() {
				openedAt = tr.At
			}
		}})
		f := New(map[vehicle.Source]*breaker.Breaker{vehicle.Encar: b}, map[vehicle.Source]Limits{vehicle.Encar: {Timeout: timeout}})
		start := time.Now()
		var (
			mu      sync.Mutex
			longest time.Duration
			calls   int
			wg      sync.WaitGroup
		)
		for range 500 { // 5 s of requests
			wg.Go(func() {
				o := f.Call(context.Background(), Task{Source: vehicle.Encar, Run: hang})
				mu.Lock()
				defer mu.Unlock()
				calls++
				longest = max(longest, o.Duration)
			})
			time.Sleep(10 * time.Millisecond)
		}
		wg.Wait()
		require.False(t, openedAt.IsZero(), "the breaker never opened")
		t.Logf("breaker opened %s after the source hung (timeout %s); longest call %s", openedAt.Sub(start), timeout, longest)
		assert.LessOrEqual(t, openedAt.Sub(start), timeout*12/10, "breaker opened after %s", openedAt.Sub(start))
		assert.LessOrEqual(t, longest, timeout, "a call cost more than the source's own timeout")
		assert.Equal(t, 500, calls)
		// Counted when they end, the five timeouts are five of five calls failed.
		assert.Regexp(t, `tripped: 5 (of 5 calls failed|calls timed out in a row)`, b.Snapshot(true).History[0].Reason)
	})
}

// TestRequestDeadlineIsNotChargedToTheUpstream: when the request's own
// deadline passes before the source's, the upstream had less than its budget
// and the call says nothing about its health.
func TestRequestDeadlineIsNotChargedToTheUpstream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New("danawa", breaker.DefaultConfig, breaker.Hooks{})
		f := New(map[vehicle.Source]*breaker.Breaker{vehicle.Danawa: b}, map[vehicle.Source]Limits{vehicle.Danawa: {Timeout: 2 * time.Second}})
		for range 20 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			o := f.Call(ctx, Task{Source: vehicle.Danawa, Run: hang})
			cancel()
			require.ErrorIs(t, o.Err, context.DeadlineExceeded, "the error itself is kept for the log")
			assert.Equal(t, "canceled", o.Label())
			assert.Equal(t, time.Second, o.Duration)
		}
		s := b.Snapshot(false)
		assert.Equal(t, "closed", s.State)
		assert.Zero(t, s.Failures)
		assert.Nil(t, s.LastError, "an abandoned call is not the upstream's last error")

		// The source's own deadline passing first is the upstream's failure.
		o := f.Call(context.Background(), Task{Source: vehicle.Danawa, Run: hang})
		assert.Equal(t, "timeout", o.Label())
		assert.Equal(t, uint32(1), b.Snapshot(false).Failures)
	})
}

// starvedBy is a lag probe that measured the given lateness over any call,
// and no scheduling latency.
type starvedBy time.Duration

func (s starvedBy) Lateness(from, to time.Time) time.Duration     { return time.Duration(s) }
func (s starvedBy) SchedLatency(from, to time.Time) time.Duration { return 0 }

// queuedFor is a service whose goroutines waited d to run, while its lag
// probe (run ahead of the queue) was on time.
type queuedFor time.Duration

func (q queuedFor) Lateness(from, to time.Time) time.Duration     { return 0 }
func (q queuedFor) SchedLatency(from, to time.Time) time.Duration { return time.Duration(q) }

// TestOverloadIsNotChargedToTheUpstream: a call whose deadline passed while
// this service was measurably starved (its lag probe late by a tenth of the
// call or more) is this service's overload, not the upstream's timeout,
// whatever phase the call stopped in; with the probe on time, the same call
// is the upstream's.
func TestOverloadIsNotChargedToTheUpstream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const budget = 2 * time.Second
		b := breaker.New("danawa", breaker.DefaultConfig, breaker.Hooks{})
		f := New(map[vehicle.Source]*breaker.Breaker{vehicle.Danawa: b}, map[vehicle.Source]Limits{vehicle.Danawa: {Timeout: budget}})
		f.Lag = starvedBy(budget / 10)
		for range 20 {
			o := f.Call(context.Background(), Task{Source: vehicle.Danawa, Run: hang})
			require.ErrorIs(t, o.Err, sources.ErrOverloaded)
			require.ErrorIs(t, o.Err, context.DeadlineExceeded, "the error itself is kept for the log")
			assert.Equal(t, "overloaded", o.Label())
			assert.Equal(t, budget/10, o.Starvation.Lateness)
		}
		s := b.Snapshot(false)
		assert.Equal(t, "closed", s.State)
		assert.Zero(t, s.Failures)

		f.Lag = starvedBy(budget/10 - time.Millisecond)
		o := f.Call(context.Background(), Task{Source: vehicle.Danawa, Run: hang})
		assert.Equal(t, "timeout", o.Label(), "199 ms late of a 2 s call is not starvation")
		assert.Equal(t, uint32(1), b.Snapshot(false).Failures)
		f.Lag = queuedFor(StarvedSched)
		o = f.Call(context.Background(), Task{Source: vehicle.Danawa, Run: hang})
		assert.Equal(t, "overloaded", o.Label(), "goroutines queued 5 ms to run")
		f.Lag = queuedFor(StarvedSched - time.Millisecond)
		o = f.Call(context.Background(), Task{Source: vehicle.Danawa, Run: hang})
		assert.Equal(t, "timeout", o.Label(), "4 ms is not starvation")

		f.Lag = nil
		o = f.Call(context.Background(), Task{Source: vehicle.Danawa, Run: hang})
		assert.Equal(t, "timeout", o.Label(), "without a measure the upstream is charged")
	})
}

// watcher is a lag probe that counts the calls it is told of.
type watcher struct {
	starvedBy
	mu            sync.Mutex
	inFlight, max int
	begun         int
}

func (w *watcher) Begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight++
	w.begun++
	w.max = max(w.max, w.inFlight)
}

func (w *watcher) End() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight--
}

// TestCallsAreToldToTheProbe: the lag probe measures only while calls are
// in flight, so every call that runs begins and ends with it, whether it
// answers, panics or runs out of time; a call its bulkhead refuses never
// ran.
func TestCallsAreToldToTheProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := New(nil, map[vehicle.Source]Limits{vehicle.Danawa: {Timeout: time.Second, Bulkhead: 2}, vehicle.Encar: {Timeout: time.Second}})
		w := &watcher{}
		f.Lag = w
		seen := -1
		f.Run(context.Background(), []Task{
			{Source: vehicle.Encar, Run: func(context.Context) error { w.mu.Lock(); seen = w.inFlight; w.mu.Unlock(); return nil }},
			{Source: vehicle.Encar, Run: func(context.Context) error { panic("extractor bug") }},
			{Source: vehicle.Danawa, Run: hang},
			{Source: vehicle.Danawa, Run: hang},
			{Source: vehicle.Danawa, Run: hang},
		})
		assert.GreaterOrEqual(t, seen, 1, "in flight while it runs")
		assert.Equal(t, 0, w.inFlight, "every call that began ended")
		assert.Equal(t, 4, w.begun, "the call the full bulkhead refused never began")
	})
}
