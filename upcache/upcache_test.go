package upcache

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeepsAnswersForTheirTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string](30*time.Second, 10)
		var calls atomic.Int32
		fetch := func(context.Context) (string, error) { return fmt.Sprint("answer ", calls.Add(1)), nil }
		for range 3 {
			v, err := c.Get(t.Context(), "page 1", fetch)
			require.NoError(t, err)
			assert.Equal(t, "answer 1", v)
		}
		time.Sleep(30 * time.Second)
		v, err := c.Get(t.Context(), "page 1", fetch)
		require.NoError(t, err)
		assert.Equal(t, "answer 2", v, "read again once the TTL is over")
		v, _ = c.Get(t.Context(), "page 2", fetch)
		assert.Equal(t, "answer 3", v, "another request is another answer")
		hits, misses, joined := c.Stats()
		assert.Equal(t, [3]uint64{2, 3, 0}, [3]uint64{hits, misses, joined})
	})
}

func TestFailuresAreNotKept(t *testing.T) {
	c := New[string](time.Minute, 10)
	boom := errors.New("503")
	_, err := c.Get(t.Context(), "k", func(context.Context) (string, error) { return "", boom })
	require.ErrorIs(t, err, boom)
	v, err := c.Get(t.Context(), "k", func(context.Context) (string, error) { return "fine", nil })
	require.NoError(t, err)
	assert.Equal(t, "fine", v)
}

// TestCoalescesAndDetaches: callers asking at once share one fetch, and the
// first caller giving up neither cancels that fetch nor fails the others.
func TestCoalescesAndDetaches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string](time.Minute, 10)
		release := make(chan struct{})
		var calls atomic.Int32
		fetch := func(ctx context.Context) (string, error) {
			calls.Add(1)
			select {
			case <-release:
				return "page", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		first, cancel := context.WithCancel(t.Context())
		var firstErr error
		var wg sync.WaitGroup
		wg.Go(func() { _, firstErr = c.Get(first, "k", fetch) })
		synctest.Wait() // the first caller's fetch is running
		got := make([]string, 5)
		for i := range got {
			wg.Go(func() { got[i], _ = c.Get(t.Context(), "k", fetch) })
		}
		synctest.Wait()
		cancel()
		synctest.Wait()
		close(release)
		wg.Wait()
		assert.ErrorIs(t, firstErr, context.Canceled, "the caller that gave up stops waiting")
		assert.Equal(t, []string{"page", "page", "page", "page", "page"}, got)
		assert.Equal(t, int32(1), calls.Load(), "one fetch for all")
		_, _, joined := c.Stats()
		assert.Equal(t, uint64(5), joined)
	})
}

func TestBounded(t *testing.T) {
	c := New[int](time.Minute, 3)
	for i := range 10 {
		_, err := c.Get(t.Context(), fmt.Sprint(i), func(context.Context) (int, error) { return i, nil })
		require.NoError(t, err)
		assert.LessOrEqual(t, len(c.items), 3)
	}
	v, _ := c.Get(t.Context(), "9", func(context.Context) (int, error) { return -1, nil })
	assert.Equal(t, 9, v, "the newest answer is kept")
}

// TestWaitingCallersTellTheirTraceHooks: a caller waiting on another's read
// is waiting on the upstream, and says so through its context's httptrace
// hooks, as the HTTP client would have (breakers time the upstream by them).
func TestWaitingCallersTellTheirTraceHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string](time.Minute, 10)
		release := make(chan struct{})
		fetch := func(context.Context) (string, error) { <-release; return "page", nil }
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = c.Get(t.Context(), "k", fetch) })
		synctest.Wait()
		var wrote, answered time.Time
		ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
			WroteRequest:         func(httptrace.WroteRequestInfo) { wrote = time.Now() },
			GotFirstResponseByte: func() { answered = time.Now() },
		})
		wg.Go(func() { _, _ = c.Get(ctx, "k", fetch) })
		synctest.Wait()
		time.Sleep(700 * time.Millisecond)
		close(release)
		wg.Wait()
		assert.False(t, wrote.IsZero())
		assert.Equal(t, 700*time.Millisecond, answered.Sub(wrote))

		wrote, answered = time.Time{}, time.Time{}
		_, _ = c.Get(ctx, "k", fetch)
		assert.True(t, wrote.IsZero(), "a kept answer is not a wait on the upstream")
	})
}
