package breaker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
)

// TestResetIgnoresCallsOnTheReplacedBreaker: calls that were in flight when
// an operator reset the breaker finish on the replaced one; their failures
// must not trip anything the operator can see.
func TestResetIgnoresCallsOnTheReplacedBreaker(t *testing.T) {
	var mu sync.Mutex
	var seen []Transition
	b := New("encar", DefaultConfig, Hooks{OnTransition: func(tr Transition) {
		mu.Lock()
		seen = append(seen, tr)
		mu.Unlock()
	}})
	release := make(chan struct{})
	var started, done sync.WaitGroup
	for range 10 {
		started.Add(1)
		done.Go(func() {
			_ = b.Do(func() error {
				started.Done()
				<-release
				return errBoom
			})
		})
	}
	started.Wait()
	b.Reset("upstream fixed")
	close(release)
	done.Wait()

	s := b.Snapshot(true)
	assert.Equal(t, "closed", s.State)
	assert.Nil(t, s.Trip)
	require.Len(t, s.History, 1, "only the reset: %+v", s.History)
	assert.Contains(t, s.History[0].Reason, "reset: upstream fixed")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 1, "hooks saw %+v", seen)
	assert.Equal(t, "closed", seen[0].To)
}

// TestForceRecordsConsistentPairs: operators acting at once must leave a
// history in which every transition starts where the previous one ended.
func TestForceRecordsConsistentPairs(t *testing.T) {
	// The interleaving that breaks a pair is narrow; many small rounds make
	// it all but certain to occur when the actions are not serialised.
	for round := range 50 {
		b := New("encar", DefaultConfig, Hooks{})
		var wg sync.WaitGroup
		for i := range 300 {
			wg.Go(func() {
				switch i % 3 {
				case 0:
					b.Force(ForcedOpen, "out")
				case 1:
					b.Force(ForcedClosed, "in")
				default:
					b.Reset("normal")
				}
			})
		}
		wg.Wait()
		h := b.Snapshot(true).History
		require.Len(t, h, historySize)
		for i := 0; i+1 < len(h); i++ {
			require.Equal(t, h[i+1].To, h[i].From, "round %d: transition %d (%s→%s) does not start where %d ended (%s→%s)",
				round, i, h[i].From, h[i].To, i+1, h[i+1].From, h[i+1].To)
		}
		require.Equal(t, b.State(), h[0].To)
	}
}

// TestConsecutiveTimeoutsResetOnAnswer: timeouts only trip when nothing else
// came back in between.
func TestConsecutiveTimeoutsResetOnAnswer(t *testing.T) {
	b := New("encar", Config{Window: time.Minute, Buckets: 6, MinRequests: 100, FailureRate: 0.5,
		OpenFor: 30 * time.Second, Probes: 1, ConsecutiveTimeouts: 3}, Hooks{})
	timeout := func() error { return context.DeadlineExceeded }
	for range 10 {
		_ = b.Do(timeout)
		_ = b.Do(timeout)
		require.NoError(t, b.Do(ok))
	}
	assert.Equal(t, "closed", b.State())
	_ = b.Do(timeout)
	_ = b.Do(timeout)
	_ = b.Do(func() error { return errors.Join(context.Canceled) }) // a hang-up is not an answer
	assert.Equal(t, "closed", b.State())
	_ = b.Do(timeout)
	assert.Equal(t, "open", b.State())
	assert.ErrorIs(t, b.Do(ok), sources.ErrRejected)
}
