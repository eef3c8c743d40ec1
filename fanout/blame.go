package fanout

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/lmn/aggregator/sources"
)

// errSourceDeadline is the cause of a source's own deadline, told apart from
// the request's.
// It wraps context.DeadlineExceeded because net/http answers a call whose
// context ended with the context's cause.
var errSourceDeadline = fmt.Errorf("the source's own deadline passed: %w", context.DeadlineExceeded)

// withSourceDeadline bounds one source's call by its own timeout inside the
// request's context.
func withSourceDeadline(request context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(request, d, errSourceDeadline)
}

// blame returns err as the upstream's failure only when the upstream had its
// whole budget and used it.
//
// When the request ended first (its own deadline passed, its client hung
// up) while the source's deadline had not, the call was abandoned, not
// failed: it matches context.Canceled, which breakers exclude.
//
// When the source's deadline passed but its requests had been waiting on
// the upstream for less than half the budget, the rest went on this
// service's own work: waiting for a core, for a connection of its own pool,
// parsing. That is overload, not the upstream's failure: it is sources.ErrOverloaded,
// which breakers exclude too. Either way the call's own error is kept for
// the log.
func blame(request, call context.Context, budget time.Duration, clock *upstreamClock, err error) error {
	if err == nil {
		return nil
	}
	own := context.Cause(call) == errSourceDeadline
	switch {
	case !own && request.Err() != nil:
		return &abandonedError{err}
	case own && clock.waited(time.Now()) < budget/2:
		return &overloadedError{err}
	}
	return err
}

// abandonedError is a call the request gave up on before the source's own
// deadline. It matches context.Canceled, which breakers exclude.
type abandonedError struct{ err error }

func (e *abandonedError) Error() string {
	return "request ended before the source's deadline: " + e.err.Error()
}
func (e *abandonedError) Unwrap() error        { return e.err }
func (e *abandonedError) Is(target error) bool { return target == context.Canceled }

type overloadedError struct{ err error }

func (e *overloadedError) Error() string {
	return "the source's deadline passed while this service was busy: " + e.err.Error()
}
func (e *overloadedError) Unwrap() error        { return e.err }
func (e *overloadedError) Is(target error) bool { return target == sources.ErrOverloaded }

// upstreamClock measures how long one source call spent waiting on its
// upstream: the time during which at least one of its requests had been
// written and had no response yet. net/http reports both moments through
// the context's httptrace hooks, so the clients need not know about it.
type upstreamClock struct {
	mu      sync.Mutex
	pending int
	since   time.Time
	total   time.Duration
}

// withUpstreamClock returns ctx with hooks that run a new clock.
func withUpstreamClock(ctx context.Context) (context.Context, *upstreamClock) {
	c := &upstreamClock{}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { c.sent(time.Now()) },
		GotFirstResponseByte: func() { c.answered(time.Now()) },
	}), c
}

func (c *upstreamClock) sent(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == 0 {
		c.since = now
	}
	c.pending++
}

func (c *upstreamClock) answered(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == 0 {
		return
	}
	c.pending--
	if c.pending == 0 {
		c.total += now.Sub(c.since)
	}
}

func (c *upstreamClock) waited(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending > 0 {
		return c.total + now.Sub(c.since)
	}
	return c.total
}
