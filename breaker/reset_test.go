package breaker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResetStartsFresh: after a reset on-call sees no stale rejected count
// or last error, while the total stays a counter for metrics and the
// history keeps what happened.
func TestResetStartsFresh(t *testing.T) {
	b := New("encar", DefaultConfig, Hooks{})
	for range 5 {
		_ = b.Do(fail)
	}
	for range 3 {
		_ = b.Do(ok) // rejected: open
	}
	s := b.Snapshot(false)
	require.Equal(t, "open", s.State)
	assert.Equal(t, uint64(3), s.Rejected)
	assert.Equal(t, uint64(3), s.RejectedSince)

	b.Reset("test")
	s = b.Snapshot(true)
	assert.Equal(t, "closed", s.State)
	assert.Equal(t, uint64(3), s.Rejected, "the total is a counter")
	assert.Zero(t, s.RejectedSince)
	assert.Nil(t, s.LastError)
	assert.Nil(t, s.Trip)
	assert.Contains(t, s.History[1].Reason, "last error: boom", "the trip stays in the history")

	b.Force(ForcedOpen, "test")
	_ = b.Do(ok)
	assert.Equal(t, uint64(1), b.Snapshot(false).RejectedSince)
}
