package fanout

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunKeepsSourcesApart: a hanging source costs its own deadline, a
// failing one cancels nobody, and an open breaker's source is not called.
// The clock is synctest's, so the durations are exact on any machine.
func TestRunKeepsSourcesApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		breakers := map[vehicle.Source]*Breaker{
			vehicle.Encar:  NewBreaker("encar", DefaultBreakerConfig, Hooks{}),
			vehicle.Danawa: NewBreaker("danawa", DefaultBreakerConfig, Hooks{}),
			vehicle.Glovis: NewBreaker("glovis", DefaultBreakerConfig, Hooks{}),
		}
		f := New(breakers, map[vehicle.Source]time.Duration{vehicle.Encar: 50 * time.Millisecond, vehicle.Danawa: time.Second, vehicle.Glovis: time.Second})
		danawaDone := false
		start := time.Now()
		out := f.Run(context.Background(), []Task{
			{Source: vehicle.Encar, Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
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

		breakers[vehicle.Encar].Force(ForcedOpen, "test")
		called := false
		o := f.Call(context.Background(), Task{Source: vehicle.Encar, Run: func(context.Context) error { called = true; return nil }})
		assert.ErrorIs(t, o.Err, sources.ErrRejected)
		assert.Equal(t, "rejected", o.Label())
		assert.False(t, called)
	})
}
