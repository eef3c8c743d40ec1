package fanout

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"net/http/httptrace"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// hang is an upstream call that never answers: it sends its request (as
// net/http reports it, through the context's trace hooks) and returns only
// when its deadline passes.
func hang(ctx context.Context) error {
	if tr := httptrace.ContextClientTrace(ctx); tr != nil {
		tr.WroteRequest(httptrace.WroteRequestInfo{})
	}
	<-ctx.Done()
	return ctx.Err()
}

// busyThenHang spends most of the budget on the service's own work (waiting
// for a core, parsing) before its request leaves, then waits for an answer
// that does not come in time.
func busyThenHang(busy time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		time.Sleep(busy)
		return hang(ctx)
	}
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
		f := New(map[vehicle.Source]*breaker.Breaker{vehicle.Encar: b}, map[vehicle.Source]time.Duration{vehicle.Encar: timeout})
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
		assert.Contains(t, b.Snapshot(true).History[0].Reason, "timed out in a row")
	})
}

// TestRequestDeadlineIsNotChargedToTheUpstream: when the request's own
// deadline passes before the source's, the upstream had less than its budget
// and the call says nothing about its health.
func TestRequestDeadlineIsNotChargedToTheUpstream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New("danawa", breaker.DefaultConfig, breaker.Hooks{})
		f := New(map[vehicle.Source]*breaker.Breaker{vehicle.Danawa: b}, map[vehicle.Source]time.Duration{vehicle.Danawa: 2 * time.Second})
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

// TestOverloadIsNotChargedToTheUpstream: when a source's deadline passes
// while the service itself took most of the budget (its requests waited on
// the upstream for less than half of it), the call is overloaded, not the
// upstream's timeout; when the upstream had most of the budget, it is.
func TestOverloadIsNotChargedToTheUpstream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const budget = 2 * time.Second
		b := breaker.New("danawa", breaker.DefaultConfig, breaker.Hooks{})
		f := New(map[vehicle.Source]*breaker.Breaker{vehicle.Danawa: b}, map[vehicle.Source]time.Duration{vehicle.Danawa: budget})
		for range 20 {
			o := f.Call(context.Background(), Task{Source: vehicle.Danawa, Run: busyThenHang(1500 * time.Millisecond)})
			require.ErrorIs(t, o.Err, sources.ErrOverloaded)
			require.ErrorIs(t, o.Err, context.DeadlineExceeded, "the error itself is kept for the log")
			assert.Equal(t, "overloaded", o.Label())
		}
		s := b.Snapshot(false)
		assert.Equal(t, "closed", s.State)
		assert.Zero(t, s.Failures)

		o := f.Call(context.Background(), Task{Source: vehicle.Danawa, Run: busyThenHang(500 * time.Millisecond)})
		assert.Equal(t, "timeout", o.Label(), "the upstream had 1.5 s of its 2 s")
		assert.Equal(t, uint32(1), b.Snapshot(false).Failures)
	})
}

func TestUpstreamClock(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	var c upstreamClock
	c.sent(at(100))
	c.sent(at(150)) // two pages in parallel
	c.answered(at(200))
	assert.Equal(t, 150*time.Millisecond, c.waited(at(250)), "still waiting on one of them")
	c.answered(at(300))
	c.answered(at(350)) // an answer reported twice changes nothing
	assert.Equal(t, 200*time.Millisecond, c.waited(at(1000)), "parsing is not waiting")
	c.sent(at(1000))
	assert.Equal(t, 700*time.Millisecond, c.waited(at(1500)))
}
