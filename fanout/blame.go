package fanout

import (
	"context"
	"fmt"
	"time"

	"github.com/lmn/aggregator/sources"
)

// Lateness is how much this process was starved of CPU between two
// moments, as measured (package lag's probe).
type Lateness interface {
	// Lateness is the total lateness of the probe's wake-ups.
	Lateness(from, to time.Time) time.Duration
	// SchedLatency is the 90th percentile of goroutines' waits to run.
	SchedLatency(from, to time.Time) time.Duration
}

// callWatcher is a Lateness that measures only while calls are in flight
// (package lag's probe sleeps otherwise): the fan-out tells it when each
// call begins and ends.
type callWatcher interface {
	Begin()
	End()
}

// The rule's thresholds: a call was starved when, while it ran, the lag
// probe's wake-ups were late by a tenth of the call's duration in all, or
// goroutines ready to run waited StarvedSched or more (the 90th percentile
// of their waits, averaged over the call).
//
// A service with cores to spare measures well under 1 % of lateness and
// waits of tens of microseconds. A whole tenth of a 2 s budget, or 5 ms on
// most wake-ups, is lost only when this process waits for a core (the
// operating system gives it to another process) or its goroutines queue
// behind each other, which is exactly when reading and parsing answers
// falls behind and a healthy upstream's call can miss its deadline. The
// probe sees the first kind best; the runtime's scheduling latencies the
// second, since a goroutine woken by a timer is run ahead of the queue.
const (
	StarvedShare = 10
	StarvedSched = 5 * time.Millisecond
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

// starved reports whether this service was measurably starved between from
// and to, and what was measured.
func starved(lag Lateness, from, to time.Time) (bool, Starvation) {
	if lag == nil {
		return false, Starvation{}
	}
	s := Starvation{Lateness: lag.Lateness(from, to), SchedLatency: lag.SchedLatency(from, to)}
	return (s.Lateness > 0 && s.Lateness*StarvedShare >= to.Sub(from)) || s.SchedLatency >= StarvedSched, s
}

// Starvation is what the fan-out measured of this service's starvation
// while a call ran, when it had to judge whose fault the call's missed
// deadline or slowness was.
type Starvation struct {
	Lateness     time.Duration // the lag probe's wake-ups, late in all
	SchedLatency time.Duration // goroutines' waits to run, 90th percentile
}

// blame returns err as the upstream's failure unless it was not the
// upstream's doing.
//
// When the request ended first (its own deadline passed, its client hung
// up) while the source's deadline had not, the call was abandoned, not
// failed: it matches context.Canceled, which breakers exclude.
//
// When the call ran out of time (its own deadline, or the HTTP client's
// timeout) it is the upstream's failure, whatever phase it stopped in (no
// connection, no handshake, no first byte, a body still trickling), unless
// this service was measurably starved while it ran: then it is
// sources.ErrOverloaded, which breakers exclude. Either way the call's own
// error is kept for the log.
func blame(request, call context.Context, late bool, err error) error {
	if err == nil {
		return nil
	}
	own := context.Cause(call) == errSourceDeadline
	switch {
	case !own && request.Err() != nil:
		return &abandonedError{err}
	case late && sources.Outcome(err) == "timeout":
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
	return "the source's deadline passed while this service was starved of CPU: " + e.err.Error()
}
func (e *overloadedError) Unwrap() error        { return e.err }
func (e *overloadedError) Is(target error) bool { return target == sources.ErrOverloaded }

// errBulkheadFull is a call not made because its source already had its
// bound of calls in flight.
var errBulkheadFull = fmt.Errorf("%w: calls in flight at the source's bound", sources.ErrBulkheadFull)

// errBulkheadStarved is the same while this service is starved: the calls
// holding the bulkhead are slow because of us.
var errBulkheadStarved = fmt.Errorf("%w: %w", sources.ErrOverloaded, errBulkheadFull)
