package breaker

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
)

var errBoom = errors.New("boom")

func fail() error { return errBoom }
func ok() error   { return nil }

func TestBreakerTripsProbesAndCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New("encar", DefaultConfig, Hooks{})
		for range 4 {
			require.ErrorIs(t, b.Do(fail), errBoom)
		}
		assert.Equal(t, "closed", b.State(), "no trip before MinRequests")
		require.ErrorIs(t, b.Do(fail), errBoom)
		assert.Equal(t, "open", b.State())

		called := false
		err := b.Do(func() error { called = true; return nil })
		assert.ErrorIs(t, err, sources.ErrRejected)
		assert.False(t, called, "an open breaker must not call through")
		s := b.Snapshot(true)
		assert.Equal(t, uint64(1), s.Rejected)
		require.NotNil(t, s.Trip)
		assert.Equal(t, TripInfo{Requests: 5, Failures: 5, LastError: "boom"}, *s.Trip)
		require.NotNil(t, s.NextProbeAt)
		assert.Equal(t, time.Now().Add(DefaultConfig.OpenFor), *s.NextProbeAt)

		time.Sleep(DefaultConfig.OpenFor + time.Second)
		assert.Equal(t, "half_open", b.State())
		require.NoError(t, b.Do(ok))
		assert.Equal(t, "closed", b.State())
		h := b.Snapshot(true).History
		require.Len(t, h, 3)
		assert.Equal(t, []string{"closed", "half_open", "open"}, []string{h[0].To, h[1].To, h[2].To})
		assert.Contains(t, h[2].Reason, "5 of 5 calls failed")
	})
}

func TestBreakerIgnoresCanceledCalls(t *testing.T) {
	b := New("encar", DefaultConfig, Hooks{})
	for range 20 {
		_ = b.Do(func() error { return context.Canceled })
	}
	assert.Equal(t, "closed", b.State(), "a client hanging up says nothing about the upstream")
}

func TestBreakerForcedStates(t *testing.T) {
	b := New("danawa", DefaultConfig, Hooks{})
	b.Force(ForcedOpen, "captcha wall")
	assert.Equal(t, "forced_open", b.State())
	assert.ErrorIs(t, b.Do(ok), sources.ErrRejected)

	b.Force(ForcedClosed, "upstream is fine, the checks are wrong")
	for range 20 {
		require.ErrorIs(t, b.Do(fail), errBoom, "forced closed calls through whatever happens")
	}
	assert.Equal(t, "forced_closed", b.State())

	b.Reset("back to normal")
	s := b.Snapshot(true)
	assert.Equal(t, "closed", s.State)
	assert.False(t, s.Forced)
	assert.Zero(t, s.Requests, "reset starts with fresh counts")
	require.Len(t, s.History, 3)
	assert.Contains(t, s.History[0].Reason, "reset: back to normal")
	assert.Contains(t, s.History[2].Reason, "forced_open: captcha wall")
}

// BenchmarkBreakerSuccess measures what the breaker adds to a call that
// succeeds: the budget is under 1 µs and no allocation.
func BenchmarkBreakerSuccess(b *testing.B) {
	br := New("encar", DefaultConfig, Hooks{})
	b.ReportAllocs()
	for b.Loop() {
		if err := br.Do(ok); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBreakerApply: the admin API's action names reach the right operation,
// and an unknown one changes nothing.
func TestBreakerApply(t *testing.T) {
	b := New("encar", DefaultConfig, Hooks{})
	for _, c := range []struct{ action, state string }{
		{"force_open", "forced_open"},
		{"force_closed", "forced_closed"},
		{"reset", "closed"},
	} {
		require.NoError(t, b.Apply(c.action, "test"), c.action)
		assert.Equal(t, c.state, b.State(), c.action)
	}
	require.NoError(t, b.Apply("force_open", "test"))
	assert.ErrorIs(t, b.Apply("open", "test"), ErrUnknownAction)
	assert.Equal(t, "forced_open", b.State(), "an unknown action changes nothing")
}

// TestBreakerSuccessAllocatesNothing holds the breaker's success path to
// zero allocations, as the benchmark reports it.
func TestBreakerSuccessAllocatesNothing(t *testing.T) {
	br := New("encar", DefaultConfig, Hooks{})
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = br.Do(ok) }))
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = br.Do(func() error { return ErrSlow }) }))
}

// TestSlowCallsTrip: calls that succeed but slowly open the breaker once
// half of the window's calls were slow, though none failed; the caller sees
// their success.
func TestSlowCallsTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New("danawa", DefaultConfig, Hooks{})
		slow := func() error { return ErrSlow }
		for range 5 {
			require.NoError(t, b.Do(ok))
		}
		for range 4 {
			require.NoError(t, b.Do(slow), "a slow success is still a success")
		}
		s := b.Snapshot(false)
		assert.Equal(t, "closed", s.State, "4 of 9 slow")
		assert.Equal(t, uint32(4), s.SlowCalls)
		assert.InDelta(t, 4.0/9, s.SlowRate, 1e-9)
		assert.Zero(t, s.Failures)
		b.NoteCall("/list: first byte in 1.5s, body 20.0 KB in 1ms")
		require.NoError(t, b.Do(slow))
		s = b.Snapshot(true)
		require.Equal(t, "open", s.State, "5 of 10 slow")
		assert.Equal(t, TripInfo{Requests: 10, Slow: 5}, *s.Trip)
		assert.Contains(t, s.History[0].Reason, "5 of 10 calls slow")
		assert.Contains(t, s.History[0].Reason, "first byte in 1.5s", "the trip says what the upstream did")

		// A slow probe keeps it open; a quick one closes it.
		time.Sleep(DefaultConfig.OpenFor + time.Millisecond)
		require.NoError(t, b.Do(slow))
		assert.Equal(t, "open", b.State())
		time.Sleep(DefaultConfig.OpenFor + time.Millisecond)
		require.NoError(t, b.Do(ok))
		assert.Equal(t, "closed", b.State())
	})
}

// TestSlowRateOff: with SlowRate and ConsecutiveBad 0 slow calls never trip.
func TestSlowRateOff(t *testing.T) {
	cfg := DefaultConfig
	cfg.SlowRate, cfg.ConsecutiveBad = 0, 0
	b := New("danawa", cfg, Hooks{})
	for range 20 {
		require.NoError(t, b.Do(func() error { return ErrSlow }))
	}
	assert.Equal(t, "closed", b.State())
}

// TestBadRunTrips: after a minute of good answers the window's rates would
// need as many bad calls again; eight bad calls in a row (failed or slow,
// in any mix) trip at once, and a good answer between them starts the run
// over.
func TestBadRunTrips(t *testing.T) {
	b := New("encar", DefaultConfig, Hooks{})
	for range 200 {
		require.NoError(t, b.Do(ok))
	}
	for range 3 {
		for i := range 7 {
			if i%2 == 0 {
				_ = b.Do(fail)
			} else {
				_ = b.Do(func() error { return ErrSlow })
			}
		}
		require.NoError(t, b.Do(ok))
	}
	assert.Equal(t, "closed", b.State(), "no run of eight")
	for range 7 {
		_ = b.Do(func() error { return ErrSlow })
	}
	assert.Equal(t, "closed", b.State())
	_ = b.Do(fail)
	require.Equal(t, "open", b.State())
	assert.Contains(t, b.Snapshot(true).History[0].Reason, "8 calls in a row failed or were slow")
}
