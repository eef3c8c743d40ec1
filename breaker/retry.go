package breaker

import (
	"time"

	"github.com/sony/gobreaker/v2"
)

// What a partner is told to wait before retrying a failed source.
const (
	// FailureBackoff follows a failure that left the breaker able to call
	// (closed, half-open with its probe out, or forced closed): a short
	// pause, since the next call may well succeed.
	FailureBackoff = 5 * time.Second
	// ForcedOpenRetryAfter follows a breaker an operator forced open. There
	// is no probe to wait for; a minute keeps partners from polling hard
	// while still noticing soon when the source is put back.
	ForcedOpenRetryAfter = time.Minute
)

// RetryAfter is how long after now a call through b may succeed: until the
// next probe while it is open, ForcedOpenRetryAfter while forced open, and
// FailureBackoff otherwise.
func (b *Breaker) RetryAfter(now time.Time) time.Duration {
	switch Forced(b.forced.Load()) {
	case ForcedOpen:
		return ForcedOpenRetryAfter
	case ForcedClosed:
		return FailureBackoff
	}
	// State takes gobreaker's lock, which may call stateChanged and take
	// b.mu: read it before taking b.mu.
	if b.cur.Load().cb.State() != gobreaker.StateOpen {
		return FailureBackoff
	}
	b.mu.Lock()
	probe := b.openedAt.Add(b.cfg.OpenFor)
	b.mu.Unlock()
	return max(probe.Sub(now), 0)
}
