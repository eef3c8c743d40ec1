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

func answerAfter(d time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TestSlowSourceOpens: a source answering in 1.5 s, inside its 2 s deadline
// but over its 1 s slow-call threshold, opens its breaker after the
// window's first five calls, and partners get the answers until then.
// Starved, the same calls are this service's doing and count for nothing.
func TestSlowSourceOpens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limits := map[vehicle.Source]Limits{vehicle.Encar: {Timeout: 2 * time.Second, SlowCall: time.Second}}
		b := breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{})
		f := New(map[vehicle.Source]*breaker.Breaker{vehicle.Encar: b}, limits)
		for i := range 5 {
			o := f.Call(context.Background(), Task{Source: vehicle.Encar, Run: answerAfter(1500 * time.Millisecond)})
			require.NoError(t, o.Err, "call %d: a slow answer is an answer", i)
			assert.True(t, o.Slow)
		}
		assert.Equal(t, "open", b.State())
		o := f.Call(context.Background(), Task{Source: vehicle.Encar, Run: answerAfter(time.Millisecond)})
		assert.Equal(t, "rejected", o.Label())

		quick := breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{})
		f = New(map[vehicle.Source]*breaker.Breaker{vehicle.Encar: quick}, limits)
		for range 20 {
			require.NoError(t, f.Call(context.Background(), Task{Source: vehicle.Encar, Run: answerAfter(900 * time.Millisecond)}).Err)
		}
		assert.Equal(t, "closed", quick.State(), "under the threshold")

		starvedB := breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{})
		f = New(map[vehicle.Source]*breaker.Breaker{vehicle.Encar: starvedB}, limits)
		f.Lag = starvedBy(200 * time.Millisecond) // over a tenth of 1.5 s
		for range 20 {
			o := f.Call(context.Background(), Task{Source: vehicle.Encar, Run: answerAfter(1500 * time.Millisecond)})
			require.NoError(t, o.Err)
			assert.False(t, o.Slow)
		}
		assert.Equal(t, "closed", starvedB.State(), "slow because this service was starved")
		assert.Zero(t, starvedB.Snapshot(false).SlowCalls)
	})
}

// TestBulkheadKeepsAHungSourceToItsShare: with Encar hung, Encar's calls
// beyond its bulkhead fail at once as bulkhead_full (told as timeout) and
// are not counted by its breaker; Danawa's calls are untouched.
func TestBulkheadKeepsAHungSourceToItsShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 2 * time.Second
		full := 0
		f := New(nil, map[vehicle.Source]Limits{
			vehicle.Encar:  {Timeout: timeout, Bulkhead: 3},
			vehicle.Danawa: {Timeout: timeout, Bulkhead: 3},
		})
		f.BulkheadFull = func(s vehicle.Source, outcome string) {
			assert.Equal(t, vehicle.Encar, s)
			assert.Equal(t, "bulkhead_full", outcome)
			full++
		}
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				o := f.Call(context.Background(), Task{Source: vehicle.Encar, Run: hang})
				assert.Equal(t, "timeout", o.Label())
			})
		}
		synctest.Wait()
		assert.Equal(t, 3, f.InFlight(vehicle.Encar))
		start := time.Now()
		out := f.Run(context.Background(), []Task{
			{Source: vehicle.Encar, Run: hang},
			{Source: vehicle.Danawa, Run: answerAfter(50 * time.Millisecond)},
		})
		assert.ErrorIs(t, out[0].Err, sources.ErrBulkheadFull)
		assert.Equal(t, "bulkhead_full", out[0].Label())
		assert.Zero(t, out[0].Duration, "refused at once")
		assert.Equal(t, breaker.FailureBackoff, out[0].RetryAfter)
		assert.NoError(t, out[1].Err)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "the request waited only for Danawa")
		assert.Equal(t, 1, full)

		wg.Wait()
		assert.Zero(t, f.InFlight(vehicle.Encar), "the slots are given back")
		o := f.Call(context.Background(), Task{Source: vehicle.Encar, Run: answerAfter(time.Millisecond)})
		assert.NoError(t, o.Err)
	})
}
