package fanout

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/vehicle"
)

func TestRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New("encar", breaker.DefaultConfig, breaker.Hooks{})
		f := New(map[vehicle.Source]*breaker.Breaker{vehicle.Encar: b}, nil)
		call := func(fn func() error) Outcome {
			return f.Call(context.Background(), Task{Source: vehicle.Encar, Run: func(context.Context) error { return fn() }})
		}

		for range 4 {
			assert.Equal(t, 5*time.Second, call(fail).RetryAfter, "closed breaker: a short backoff")
		}
		// The fifth failure trips it (5 of 5 failed, the last one here
		// included): the wait is the whole open period, 30 s by default.
		assert.Equal(t, 30*time.Second, call(fail).RetryAfter)
		time.Sleep(12 * time.Second)
		assert.Equal(t, 18*time.Second, call(ok).RetryAfter, "rejected: the time left to the probe")

		time.Sleep(19 * time.Second) // half-open: the next call is the probe
		assert.Equal(t, 30*time.Second, call(fail).RetryAfter, "a failed probe opens it for another period")
		time.Sleep(31 * time.Second)
		assert.Zero(t, call(ok).RetryAfter, "a success has nothing to wait for")

		b.Force(breaker.ForcedOpen, "test")
		assert.Equal(t, time.Minute, call(ok).RetryAfter, "forced open: the documented minute")
		b.Force(breaker.ForcedClosed, "test")
		assert.Equal(t, 5*time.Second, call(fail).RetryAfter)
	})
}

func fail() error { return errBoom }
func ok() error   { return nil }
