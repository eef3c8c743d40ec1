// Package fanout runs one task per upstream, each under its own circuit
// breaker and deadline, and collects every result: a failing source never
// cancels or delays the others.
package fanout

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/panics"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Task is one source's share of a request. Run writes its rows wherever its
// closure says (its own slot) and returns only its error.
type Task struct {
	Source vehicle.Source
	Run    func(ctx context.Context) error
}

// Outcome is how one task went.
type Outcome struct {
	Source   vehicle.Source
	Err      error
	Duration time.Duration
	// RetryAfter, when Err is set, is how long until the source may answer
	// again (see breaker.Breaker.RetryAfter).
	RetryAfter time.Duration
	// Upstream is the time line of each HTTP request the task made, in the
	// order they ended (see sources.Phases); Dropped counts those made past
	// the record's bound.
	Upstream []sources.Phases
	Dropped  int
	// Starvation is how starved of CPU this service was during the call,
	// as measured, when the fan-out had to judge whose fault a missed
	// deadline or a slow answer was; zero when it did not ask.
	Starvation Starvation
	// Slow is set when the call succeeded slower than its source's
	// slow-call threshold and counted toward opening its breaker.
	Slow bool
}

// Label is the outcome's bounded metrics label (success, timeout, blocked, …).
func (o Outcome) Label() string { return sources.Outcome(o.Err) }

// Limits bound and judge one source's calls.
type Limits struct {
	// Timeout is the source's own deadline inside the request's; 0 for none.
	Timeout time.Duration
	// SlowCall is the slow-call threshold: a call that succeeds slower than
	// this, without this service being starved, counts toward opening the
	// breaker (breaker.ErrSlow); 0 for never.
	SlowCall time.Duration
	// Bulkhead bounds the source's calls in flight: beyond it a call fails
	// at once (sources.ErrBulkheadFull), so a hung source holds at most its
	// own share of the instance; 0 for no bound.
	Bulkhead int
}

// Fanout runs tasks under their sources' breakers, deadlines and
// bulkheads.
type Fanout struct {
	breakers map[vehicle.Source]*breaker.Breaker
	sources  map[vehicle.Source]*source

	// Lag, when set, measures this service's starvation; without it a
	// missed deadline is always the upstream's.
	Lag Lateness

	// Panicked, when set, is told of every panic a task raised (it is also
	// the task's error), to log its stack and count it.
	Panicked func(vehicle.Source, *panics.Error)
	// BulkheadFull, when set, is told of every call a full bulkhead
	// refused and its outcome's label (bulkhead_full, or overloaded when
	// this service was starved), to count it.
	BulkheadFull func(s vehicle.Source, outcome string)
	// Finished, when set, is told of every outcome with its upstream
	// phases, for metrics.
	Finished func(*Outcome)
}

// source is one source's limits and its calls in flight.
type source struct {
	Limits
	inFlight atomic.Int32
}

// New returns a fan-out over the given breakers, each source's calls
// bounded and judged by its limits.
func New(breakers map[vehicle.Source]*breaker.Breaker, limits map[vehicle.Source]Limits) *Fanout {
	f := &Fanout{breakers: breakers, sources: map[vehicle.Source]*source{}}
	for s, l := range limits {
		f.sources[s] = &source{Limits: l}
	}
	return f
}

// InFlight is how many calls to s are in flight, for metrics.
func (f *Fanout) InFlight(s vehicle.Source) int {
	if src := f.sources[s]; src != nil {
		return int(src.inFlight.Load())
	}
	return 0
}

// Run starts every task at once and waits for all of them. Each gets its own
// deadline inside ctx's; a task whose breaker is open, or whose source's
// bulkhead is full, is not run and fails at once. The errgroup only waits: tasks return nil to it, so one failing
// source never cancels the others.
//
// The last task runs on the caller's goroutine, which would otherwise only
// wait: one goroutine fewer to start and hand to another thread per
// request, and with it a thread's wake-up and sleep (README, "Running more
// than one instance").
func (f *Fanout) Run(ctx context.Context, tasks []Task) []Outcome {
	out := make([]Outcome, len(tasks))
	if len(tasks) == 0 {
		return out
	}
	var g errgroup.Group
	last := len(tasks) - 1
	for i, t := range tasks[:last] {
		g.Go(func() error {
			out[i] = f.run(ctx, t)
			return nil
		})
	}
	out[last] = f.run(ctx, tasks[last])
	_ = g.Wait()
	return out
}

// Call runs one task the same way, for requests that need a single source.
func (f *Fanout) Call(ctx context.Context, t Task) Outcome {
	return f.run(ctx, t)
}

func (f *Fanout) run(ctx context.Context, t Task) (o Outcome) {
	start := time.Now()
	ctx, span := startSourceSpan(ctx, t.Source, f.breakers[t.Source])
	defer func() { endSourceSpan(span, o) }()
	request := ctx
	var lim Limits
	if src := f.sources[t.Source]; src != nil {
		lim = src.Limits
		if lim.Bulkhead > 0 {
			if int(src.inFlight.Add(1)) > lim.Bulkhead {
				src.inFlight.Add(-1)
				return f.refuse(t.Source, lim, start)
			}
			defer src.inFlight.Add(-1)
		}
	}
	if lim.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = withSourceDeadline(ctx, lim.Timeout)
		defer cancel()
	}
	if w, ok := f.Lag.(callWatcher); ok {
		w.Begin()
		defer w.End()
	}
	ctx, rec := sources.WithCall(ctx)
	o = Outcome{Source: t.Source}
	// judge runs the task and says whose fault its failure, or its slowness,
	// was.
	judge := func() (err error) {
		err = func() (err error) {
			defer panics.Contain(&err)
			return t.Run(ctx)
		}()
		now := time.Now()
		switch {
		case err == nil && lim.SlowCall > 0 && now.Sub(start) > lim.SlowCall:
			late, st := starved(f.Lag, start, now)
			if !late {
				o.Slow = true
				return breaker.ErrSlow
			}
			o.Starvation = st // slow because of us: not counted
		case sources.Outcome(err) == "timeout":
			var late bool
			late, o.Starvation = starved(f.Lag, start, now)
			return blame(request, ctx, late, err)
		}
		return blame(request, ctx, false, err)
	}
	b := f.breakers[t.Source]
	if b != nil {
		o.Err = b.Do(judge)
		if o.Err != nil {
			o.RetryAfter = b.RetryAfter(time.Now())
		}
	} else if o.Err = judge(); o.Err == breaker.ErrSlow {
		o.Err = nil
	} else if o.Err != nil {
		o.RetryAfter = breaker.FailureBackoff
	}
	var p *panics.Error
	if errors.As(o.Err, &p) && f.Panicked != nil {
		f.Panicked(t.Source, p)
	}
	o.Upstream, o.Dropped = rec.Requests()
	o.Duration = time.Since(start)
	if b != nil && (o.Slow || o.charged()) {
		if p, ok := sources.Telling(o.Upstream); ok {
			b.NoteCall(p.Path + ": " + p.Summary())
		}
	}
	if f.Finished != nil {
		f.Finished(&o)
	}
	return o
}

// charged reports whether the outcome is a failure charged to the upstream.
func (o Outcome) charged() bool {
	switch o.Label() {
	case "success", "canceled", "overloaded", "rejected", "bulkhead_full":
		return false
	}
	return true
}

// refuse fails a call its source's full bulkhead did not let through: the
// calls holding it are slow, which is the upstream's doing (reason
// timeout), unless this service was starved over the last second, when
// they are slow because of us (overloaded). A second, not the source's
// whole deadline: starvation comes on quickly and an average over a longer
// past would miss its start.
func (f *Fanout) refuse(s vehicle.Source, lim Limits, start time.Time) Outcome {
	o := Outcome{Source: s, Err: errBulkheadFull, RetryAfter: breaker.FailureBackoff}
	if late, st := starved(f.Lag, start.Add(-time.Second), start); late {
		o.Err, o.Starvation = errBulkheadStarved, st
	}
	if f.BulkheadFull != nil {
		f.BulkheadFull(s, o.Label())
	}
	o.Duration = time.Since(start)
	return o
}
