package fanout

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/panics"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunKeepsSourcesApart: a hanging source costs its own deadline, a
// failing one cancels nobody, and an open breaker's source is not called.
// The clock is synctest's, so the durations are exact on any machine.
func TestRunKeepsSourcesApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		breakers := map[vehicle.Source]*breaker.Breaker{
			vehicle.Encar:  breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{}),
			vehicle.Danawa: breaker.New("danawa", breaker.DefaultConfig, breaker.Hooks{}),
			vehicle.Glovis: breaker.New("glovis", breaker.DefaultConfig, breaker.Hooks{}),
		}
		f := New(breakers, map[vehicle.Source]Limits{vehicle.Encar: {Timeout: 50 * time.Millisecond}, vehicle.Danawa: {Timeout: time.Second}, vehicle.Glovis: {Timeout: time.Second}})
		danawaDone := false
		start := time.Now()
		out := f.Run(context.Background(), []Task{
			{Source: vehicle.Encar, Run: hang},
			{Source: vehicle.Danawa, Run: func(ctx context.Context) error {
				select {
				case <-time.After(100 * time.Millisecond): // outlives Encar's failure
					danawaDone = true
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}},
			{Source: vehicle.Glovis, Run: func(context.Context) error { return errors.New("boom") }},
		})
		require.Len(t, out, 3)
		assert.ErrorIs(t, out[0].Err, context.DeadlineExceeded)
		assert.Equal(t, "timeout", out[0].Label())
		assert.Equal(t, 50*time.Millisecond, out[0].Duration, "a hung source costs its own deadline")
		assert.NoError(t, out[1].Err)
		assert.True(t, danawaDone, "a failing or hanging source must not cancel another")
		assert.EqualError(t, out[2].Err, "boom")
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "nobody waited beyond the slowest healthy source")

		breakers[vehicle.Encar].Force(breaker.ForcedOpen, "test")
		called := false
		o := f.Call(context.Background(), Task{Source: vehicle.Encar, Run: func(context.Context) error { called = true; return nil }})
		assert.ErrorIs(t, o.Err, sources.ErrRejected)
		assert.Equal(t, "rejected", o.Label())
		assert.False(t, called)
	})
}

// TestPanicFailsOnlyItsSource: a panic in a task, or in a goroutine the task
// started, is that source's failure, with its stack, counted by its breaker;
// the other sources answer and the process goes on.
func TestPanicFailsOnlyItsSource(t *testing.T) {
	breakers := map[vehicle.Source]*breaker.Breaker{
		vehicle.Encar:  breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{}),
		vehicle.Danawa: breaker.New("danawa", breaker.DefaultConfig, breaker.Hooks{}),
	}
	f := New(breakers, nil)
	var (
		mu       sync.Mutex
		panicked []vehicle.Source
		stacks   []string
	)
	f.Panicked = func(s vehicle.Source, p *panics.Error) {
		mu.Lock()
		defer mu.Unlock()
		panicked = append(panicked, s)
		stacks = append(stacks, string(p.Stack))
	}
	var rows map[string]int // nil: the task's bug is writing to it
	out := f.Run(context.Background(), []Task{
		{Source: vehicle.Encar, Run: func(context.Context) error { rows["x"]++; return nil }},
		{Source: vehicle.Danawa, Run: func(context.Context) error {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Go(func() {
					defer panics.Contain(&errs[i])
					if i == 1 {
						panic("page 2 out of range")
					}
				})
			}
			wg.Wait()
			return errors.Join(errs...)
		}},
		{Source: vehicle.Glovis, Run: func(context.Context) error { return nil }},
	})
	var p *panics.Error
	require.ErrorAs(t, out[0].Err, &p)
	assert.Contains(t, p.Error(), "assignment to entry in nil map")
	require.ErrorAs(t, out[1].Err, &p)
	assert.Equal(t, "page 2 out of range", p.Value)
	assert.NoError(t, out[2].Err, "the other sources answer")
	assert.Equal(t, "error", out[0].Label())

	assert.ElementsMatch(t, []vehicle.Source{vehicle.Encar, vehicle.Danawa}, panicked)
	for _, s := range stacks {
		assert.Contains(t, s, "TestPanicFailsOnlyItsSource", "the stack names where the panic was")
	}
	for _, s := range []vehicle.Source{vehicle.Encar, vehicle.Danawa} {
		snap := breakers[s].Snapshot(false)
		assert.Equal(t, uint32(1), snap.Failures, "%s: a panic is a failed call", s)
		require.NotNil(t, snap.LastError)
		assert.Contains(t, *snap.LastError, "panic: ")
	}

	o := f.Call(context.Background(), Task{Source: vehicle.Encar, Run: func(context.Context) error { panic("detail") }})
	require.ErrorAs(t, o.Err, &p, "a single call is contained the same way")
}

func TestRetryAfterWithoutBreaker(t *testing.T) {
	f := New(nil, nil)
	o := f.Call(context.Background(), Task{Source: vehicle.Danawa, Run: func(context.Context) error { return errBoom }})
	assert.Equal(t, 5*time.Second, o.RetryAfter)
}

var errBoom = errors.New("boom")
