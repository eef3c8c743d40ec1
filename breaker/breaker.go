// Package breaker is the circuit breaker each upstream sits behind: a
// wrapper over gobreaker with what on-call needs (forced states, history,
// counts at the trip, when it probes next).
package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/lmn/aggregator/sources"
)

// Config tunes a breaker.
type Config struct {
	Window      time.Duration // rolling window the failure rate is computed over
	Buckets     int           // how many buckets the window rolls by
	MinRequests uint32        // no trip before this many calls in the window
	FailureRate float64       // trip at or above this share of failures
	OpenFor     time.Duration // how long an open breaker rejects before a probe
	Probes      uint32        // calls let through while half-open
	// SlowRate trips at or above this share of slow calls (0: never): calls
	// the caller judged slower than the source's threshold (it returns
	// ErrSlow), and calls cut off by its deadline. A source that answers,
	// but slowly, costs every partner its delay; like resilience4j's
	// slow-call rate, it opens the breaker even though nothing failed.
	SlowRate float64
	// ConsecutiveTimeouts trips the breaker when this many calls in a row
	// ran into the source's own deadline (0: never): a hung source trips
	// after as many of its deadlines, without waiting for MinRequests calls
	// to end in the window.
	ConsecutiveTimeouts uint32
	// ConsecutiveBad trips the breaker when this many calls in a row
	// failed or were slow (0: never). The rates are over a whole window: a
	// source that had a minute of good answers must fail or slow down for
	// as long again before half the window is bad, and partners pay for
	// every one of those calls. A run of bad calls with no good one between
	// says the same at once.
	ConsecutiveBad uint32
}

// ErrSlow is what a call's function returns when the call succeeded but
// took longer than its source's slow-call threshold, by the caller's
// judgement: the breaker counts it as slow, and Do returns nil.
var ErrSlow = errors.New("slow call")

// DefaultConfig trips on half the calls of a minute failing, or half of
// them slow, once five calls have been seen, on five calls in a row timing
// out, or on eight in a row failing or slow, and probes again after 30
// seconds.
var DefaultConfig = Config{
	Window: time.Minute, Buckets: 6, MinRequests: 5, FailureRate: 0.5, SlowRate: 0.5, OpenFor: 30 * time.Second, Probes: 1,
	ConsecutiveTimeouts: 5, ConsecutiveBad: 8,
}

// Forced is an operator's override of a breaker.
type Forced int32

const (
	NotForced Forced = iota
	ForcedOpen
	ForcedClosed
)

func (f Forced) String() string {
	switch f {
	case ForcedOpen:
		return "forced_open"
	case ForcedClosed:
		return "forced_closed"
	}
	return ""
}

// Transition is one change of a breaker's state.
type Transition struct {
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

const historySize = 100

// Breaker wraps a gobreaker breaker with what on-call needs and gobreaker
// lacks: forced states, a count of rejected calls, the counts and error at
// the moment it tripped, when it will probe next, and its last transitions.
//
// gobreaker calls OnStateChange under its own lock, so the wrapper records
// transitions into its own fields there and never calls back into gobreaker.
//
// An operator's reset replaces the gobreaker breaker; calls still in flight
// finish on the replaced one, whose callbacks are then ignored, so they
// cannot record a trip of a breaker nobody uses any more.
type Breaker struct {
	name string
	cfg  Config
	cur  atomic.Pointer[generation]

	// op serialises operator actions, so that each records the from/to pair
	// it really made. It is taken before gobreaker's lock and b.mu.
	op sync.Mutex

	forced   atomic.Int32
	rejected atomic.Uint64
	lastOK   atomic.Int64 // unix nanos of the last success

	// rejectedAtReset is rejected when the breaker was last reset: the
	// total stays a counter for metrics, on-call sees the count since.
	rejectedAtReset atomic.Uint64

	mu         sync.Mutex
	lastErr    string
	lastErrAt  time.Time
	tripCounts counts // counts seen by the ReadyToTrip that tripped it
	tripErr    string
	lastCall   string // how the last failed or slow call went upstream (NoteCall)
	lastCallAt time.Time
	changedAt  time.Time
	openedAt   time.Time
	history    [historySize]Transition
	histLen    int
	histNext   int
	hooks      Hooks
}

// Hooks let the owner of a breaker observe it (for metrics and logs). They
// run on the calling goroutine; OnTransition runs under gobreaker's lock and
// must not call the breaker.
type Hooks struct {
	OnTransition func(t Transition)
	OnCall       func(outcome string, d time.Duration) // outcome as sources.Outcome
}

// New returns a closed breaker for source name.
func New(name string, cfg Config, hooks Hooks) *Breaker {
	b := &Breaker{name: name, cfg: cfg, hooks: hooks, changedAt: time.Now()}
	b.cur.Store(b.newGeneration())
	return b
}

// generation is one gobreaker breaker and what the wrapper counts beside it;
// a reset starts a new one.
type generation struct {
	cb       *gobreaker.CircuitBreaker[struct{}]
	win      *window
	timeouts atomic.Uint32 // calls in a row that ran into the source's deadline
	bad      atomic.Uint32 // calls in a row that failed or were slow
	// trippedBy is set by the ReadyToTrip that tripped, for the
	// transition's reason: "rate", "slow" or "timeouts"; read and written
	// under b.mu.
	trippedBy string
}

func (b *Breaker) newGeneration() *generation {
	g := &generation{win: newWindow(int64(b.cfg.Window), b.cfg.Buckets)}
	bucket := b.cfg.Window / time.Duration(max(b.cfg.Buckets, 1))
	g.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         b.name,
		MaxRequests:  max(b.cfg.Probes, 1),
		Interval:     b.cfg.Window,
		BucketPeriod: bucket,
		Timeout:      b.cfg.OpenFor,
		// gobreaker asks after every call it counts as failed: failures
		// and slow calls (ErrSlow). The rates come from the wrapper's own
		// window, which counts calls when they end.
		ReadyToTrip: func(gobreaker.Counts) bool {
			if b.cur.Load() != g {
				return false // replaced by a reset: its calls decide nothing
			}
			c := g.win.sum(time.Now().UnixNano())
			enough := c.calls >= b.cfg.MinRequests
			by := ""
			switch {
			case enough && float64(c.failures) >= b.cfg.FailureRate*float64(c.calls):
				by = "rate"
			case enough && b.cfg.SlowRate > 0 && float64(c.slow) >= b.cfg.SlowRate*float64(c.calls):
				by = "slow"
			case b.cfg.ConsecutiveTimeouts > 0 && g.timeouts.Load() >= b.cfg.ConsecutiveTimeouts:
				by = "timeouts"
			case b.cfg.ConsecutiveBad > 0 && g.bad.Load() >= b.cfg.ConsecutiveBad:
				by = "bad"
			default:
				return false
			}
			b.mu.Lock()
			b.tripCounts, b.tripErr = c, b.lastErr
			g.trippedBy = by
			b.mu.Unlock()
			return true
		},
		// A client that hung up, or a request whose own deadline passed
		// first, says nothing about the upstream's health.
		// A service too busy to use the source's budget neither.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) || errors.Is(err, sources.ErrOverloaded) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if b.cur.Load() == g {
				b.stateChanged(g, from, to)
			}
		},
	})
	return g
}

// stateChanged runs under gobreaker's lock: record, do not call back.
func (b *Breaker) stateChanged(g *generation, from, to gobreaker.State) {
	now := time.Now()
	b.mu.Lock()
	reason := ""
	c := b.tripCounts
	switch {
	case to == gobreaker.StateOpen && from == gobreaker.StateClosed && g.trippedBy == "bad":
		reason = fmt.Sprintf("tripped: %d calls in a row failed or were slow; last error: %s", b.cfg.ConsecutiveBad, b.lastTimingOr(b.tripErr))
	case to == gobreaker.StateOpen && from == gobreaker.StateClosed && g.trippedBy == "timeouts":
		reason = fmt.Sprintf("tripped: %d calls timed out in a row; last error: %s", b.cfg.ConsecutiveTimeouts, b.tripErr)
	case to == gobreaker.StateOpen && from == gobreaker.StateClosed && g.trippedBy == "slow":
		reason = fmt.Sprintf("tripped: %d of %d calls slow; last error: %s", c.slow, c.calls, b.lastTimingOr(b.tripErr))
	case to == gobreaker.StateOpen && from == gobreaker.StateClosed:
		reason = fmt.Sprintf("tripped: %d of %d calls failed; last error: %s", c.failures, c.calls, b.tripErr)
	case to == gobreaker.StateOpen:
		reason = "probe failed: " + b.lastErr
	case to == gobreaker.StateHalfOpen:
		reason = "open period over; letting a probe through"
	case to == gobreaker.StateClosed:
		reason = "probe succeeded"
		g.timeouts.Store(0)
		g.bad.Store(0)
	}
	if to == gobreaker.StateOpen {
		b.openedAt = now
	}
	// A new state judges by its own calls, as gobreaker's counts do.
	g.win.reset()
	b.recordLocked(now, stateName(from), stateName(to), reason)
	b.mu.Unlock()
}

func (b *Breaker) recordLocked(at time.Time, from, to, reason string) {
	b.changedAt = at
	t := Transition{At: at, From: from, To: to, Reason: reason}
	b.history[b.histNext] = t
	b.histNext = (b.histNext + 1) % historySize
	b.histLen = min(b.histLen+1, historySize)
	if b.hooks.OnTransition != nil {
		b.hooks.OnTransition(t)
	}
}

func stateName(s gobreaker.State) string {
	switch s {
	case gobreaker.StateOpen:
		return "open"
	case gobreaker.StateHalfOpen:
		return "half_open"
	default:
		return "closed"
	}
}

// Name is the source the breaker guards.
func (b *Breaker) Name() string { return b.name }

// Do runs fn unless the breaker rejects it, in which case it returns an error
// wrapping sources.ErrRejected without calling fn.
func (b *Breaker) Do(fn func() error) error {
	start := time.Now()
	err := b.do(fn)
	if b.hooks.OnCall != nil {
		b.hooks.OnCall(sources.Outcome(err), time.Since(start))
	}
	return err
}

func (b *Breaker) do(fn func() error) error {
	switch Forced(b.forced.Load()) {
	case ForcedOpen:
		b.rejected.Add(1)
		return errForcedOpen
	case ForcedClosed:
		err := fn()
		b.note(err)
		return err
	}
	g := b.cur.Load()
	_, err := g.cb.Execute(func() (struct{}, error) {
		err := fn()
		if err == ErrSlow {
			b.win(g, false, true)
			g.timeouts.Store(0)
			g.bad.Add(1)
			return struct{}{}, err
		}
		// Noted before gobreaker sees it, so a trip can name the error and
		// ReadyToTrip sees this call in the window and the runs.
		b.note(err)
		if err == nil {
			b.win(g, false, false)
			g.timeouts.Store(0)
			g.bad.Store(0)
			return struct{}{}, nil
		}
		switch sources.Outcome(err) {
		case "timeout":
			b.win(g, true, true)
			g.timeouts.Add(1)
			g.bad.Add(1)
		case "canceled", "overloaded":
			// Not an answer from the upstream: not counted, and the runs
			// go on.
		default:
			b.win(g, true, false)
			g.timeouts.Store(0)
			g.bad.Add(1)
		}
		return struct{}{}, err
	})
	switch {
	case err == ErrSlow:
		return nil
	case errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests):
		b.rejected.Add(1)
		return errOpen
	}
	return err
}

// win counts a call that ended in g's window.
func (b *Breaker) win(g *generation, failed, slow bool) {
	g.win.add(time.Now().UnixNano(), failed, slow)
}

// Preallocated so that rejecting a call allocates nothing either.
var (
	errForcedOpen = fmt.Errorf("%w (forced open by an operator)", sources.ErrRejected)
	errOpen       = sources.ErrRejected
)

func (b *Breaker) note(err error) {
	if err == nil {
		b.lastOK.Store(time.Now().UnixNano())
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, sources.ErrOverloaded) {
		return
	}
	msg := err.Error()
	b.mu.Lock()
	b.lastErr, b.lastErrAt = msg, time.Now()
	b.mu.Unlock()
}

// NoteCall records how the last failed or slow call went upstream, in
// on-call's words ("first byte in 40ms, body 12.0 KB in 11.9s (1.0 KB/s)"),
// for the snapshot and the reason of a trip. The caller formats it only for
// such calls, so a healthy call costs nothing here.
func (b *Breaker) NoteCall(summary string) {
	b.mu.Lock()
	b.lastCall, b.lastCallAt = summary, time.Now()
	b.mu.Unlock()
}

// lastTimingOr is the last noted call, or or when none was; under b.mu.
func (b *Breaker) lastTimingOr(or string) string {
	if b.lastCall != "" {
		return b.lastCall
	}
	return or
}

// Force sets an operator override: ForcedOpen takes the source out of
// rotation, ForcedClosed calls it whatever it answers. Who and why go into
// the history.
func (b *Breaker) Force(f Forced, reason string) {
	b.op.Lock()
	defer b.op.Unlock()
	from := b.State()
	b.forced.Store(int32(f))
	to := b.State()
	b.mu.Lock()
	b.recordLocked(time.Now(), from, to, "operator: "+f.String()+": "+reason)
	b.mu.Unlock()
}

// ErrUnknownAction is Apply's answer to an action it does not know.
var ErrUnknownAction = errors.New("action must be force_open, force_closed or reset")

// Apply carries out an operator's action named as the admin API names it:
// force_open, force_closed or reset.
func (b *Breaker) Apply(action, reason string) error {
	switch action {
	case "force_open":
		b.Force(ForcedOpen, reason)
	case "force_closed":
		b.Force(ForcedClosed, reason)
	case "reset":
		b.Reset(reason)
	default:
		return ErrUnknownAction
	}
	return nil
}

// Reset clears any override and starts a fresh, closed breaker with empty
// counts.
func (b *Breaker) Reset(reason string) {
	b.op.Lock()
	defer b.op.Unlock()
	from := b.State()
	b.forced.Store(int32(NotForced))
	b.cur.Store(b.newGeneration())
	b.rejectedAtReset.Store(b.rejected.Load())
	b.mu.Lock()
	b.tripCounts, b.tripErr = counts{}, ""
	b.lastCall, b.lastCallAt = "", time.Time{}
	b.lastErr, b.lastErrAt = "", time.Time{} // still in the history, with the trip that it caused
	b.recordLocked(time.Now(), from, "closed", "operator: reset: "+reason)
	b.mu.Unlock()
}

// State is the breaker's effective state: forced_open, forced_closed, open,
// half_open or closed.
//
// It must not be called with b.mu held: gobreaker takes its own lock and
// then, in OnStateChange, ours.
func (b *Breaker) State() string {
	if f := Forced(b.forced.Load()); f != NotForced {
		return f.String()
	}
	return stateName(b.cur.Load().cb.State())
}

// Snapshot is a breaker as on-call sees it.
type Snapshot struct {
	Source        string       `json:"source"`
	State         string       `json:"state"`
	Forced        bool         `json:"forced"`
	Requests      uint32       `json:"requests_in_window"` // calls that ended in the window, excluding this service's own overload and hang-ups
	Failures      uint32       `json:"failures_in_window"`
	FailureRate   float64      `json:"failure_rate"`
	SlowCalls     uint32       `json:"slow_calls_in_window"` // slower than the source's threshold, or cut off by its deadline
	SlowRate      float64      `json:"slow_call_rate"`
	LastCall      *string      `json:"last_call"` // phases of the last failed or slow call
	LastCallAt    *time.Time   `json:"last_call_at"`
	Rejected      uint64       `json:"rejected_total"`
	RejectedSince uint64       `json:"rejected_since_reset"` // since the last reset
	ChangedAt     time.Time    `json:"last_change_at"`
	NextProbeAt   *time.Time   `json:"next_probe_at"`
	LastSuccessAt *time.Time   `json:"last_success_at"`
	LastError     *string      `json:"last_error"`
	LastErrorAt   *time.Time   `json:"last_error_at"`
	Trip          *TripInfo    `json:"trip"`
	History       []Transition `json:"history,omitempty"`
}

// TripInfo is what the window held when the breaker last tripped.
type TripInfo struct {
	Requests  uint32 `json:"requests"`
	Failures  uint32 `json:"failures"`
	Slow      uint32 `json:"slow"`
	LastError string `json:"last_error"`
}

// Snapshot reports the breaker's state; withHistory adds the transitions,
// newest first.
func (b *Breaker) Snapshot(withHistory bool) Snapshot {
	g := b.cur.Load()
	state := b.State() // takes gobreaker's lock, and may move open → half-open
	c := g.win.sum(time.Now().UnixNano())
	s := Snapshot{Source: b.name, State: state, Forced: Forced(b.forced.Load()) != NotForced, Rejected: b.rejected.Load()}
	s.RejectedSince = s.Rejected - b.rejectedAtReset.Load()
	s.Requests, s.Failures, s.SlowCalls = c.calls, c.failures, c.slow
	if c.calls > 0 {
		s.FailureRate = float64(c.failures) / float64(c.calls)
		s.SlowRate = float64(c.slow) / float64(c.calls)
	}
	if ns := b.lastOK.Load(); ns != 0 {
		t := time.Unix(0, ns)
		s.LastSuccessAt = &t
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s.ChangedAt = b.changedAt
	if state == "open" {
		t := b.openedAt.Add(b.cfg.OpenFor)
		s.NextProbeAt = &t
	}
	if b.lastErr != "" {
		e, at := b.lastErr, b.lastErrAt
		s.LastError, s.LastErrorAt = &e, &at
	}
	if b.lastCall != "" {
		l, at := b.lastCall, b.lastCallAt
		s.LastCall, s.LastCallAt = &l, &at
	}
	if t := b.tripCounts; t.calls > 0 || t.failures > 0 {
		s.Trip = &TripInfo{Requests: t.calls, Failures: t.failures, Slow: t.slow, LastError: b.tripErr}
	}
	if withHistory {
		s.History = make([]Transition, 0, b.histLen)
		for i := 1; i <= b.histLen; i++ {
			s.History = append(s.History, b.history[(b.histNext-i+historySize)%historySize])
		}
	}
	return s
}
