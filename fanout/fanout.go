// Package fanout runs one task per upstream, each under its own circuit
// breaker and deadline, and collects every result: a failing source never
// cancels or delays the others.
package fanout

import (
	"context"
	"errors"
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
	// Lateness is how starved of CPU this service was during the call, as
	// measured, when the fan-out had to judge whose fault a missed deadline
	// was; 0 when it did not ask.
	Lateness time.Duration
}

// Label is the outcome's bounded metrics label (success, timeout, blocked, …).
func (o Outcome) Label() string { return sources.Outcome(o.Err) }

// Fanout runs tasks under their sources' breakers and deadlines.
type Fanout struct {
	breakers map[vehicle.Source]*breaker.Breaker
	timeouts map[vehicle.Source]time.Duration

	// Lag, when set, measures this service's starvation; without it a
	// missed deadline is always the upstream's.
	Lag Lateness

	// Panicked, when set, is told of every panic a task raised (it is also
	// the task's error), to log its stack and count it.
	Panicked func(vehicle.Source, *panics.Error)
}

// New returns a fan-out over the given breakers, each source's call bounded
// by its timeout.
func New(breakers map[vehicle.Source]*breaker.Breaker, timeouts map[vehicle.Source]time.Duration) *Fanout {
	return &Fanout{breakers: breakers, timeouts: timeouts}
}

// Run starts every task at once and waits for all of them. Each gets its own
// deadline inside ctx's; a task whose breaker is open is not run and fails at
// once. The errgroup only waits: tasks return nil to it, so one failing
// source never cancels the others.
func (f *Fanout) Run(ctx context.Context, tasks []Task) []Outcome {
	out := make([]Outcome, len(tasks))
	var g errgroup.Group
	for i, t := range tasks {
		g.Go(func() error {
			out[i] = f.run(ctx, t)
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// Call runs one task the same way, for requests that need a single source.
func (f *Fanout) Call(ctx context.Context, t Task) Outcome {
	return f.run(ctx, t)
}

func (f *Fanout) run(ctx context.Context, t Task) Outcome {
	start := time.Now()
	request := ctx
	d := f.timeouts[t.Source]
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = withSourceDeadline(ctx, d)
		defer cancel()
	}
	ctx, rec := sources.WithCall(ctx)
	o := Outcome{Source: t.Source}
	// judge runs the task and says whose fault its failure was.
	judge := func() (err error) {
		err = func() (err error) {
			defer panics.Contain(&err)
			return t.Run(ctx)
		}()
		if sources.Outcome(err) == "timeout" {
			var late bool
			late, o.Lateness = starved(f.Lag, start, time.Now())
			return blame(request, ctx, late, err)
		}
		return blame(request, ctx, false, err)
	}
	if b := f.breakers[t.Source]; b != nil {
		o.Err = b.Do(judge)
		if o.Err != nil {
			o.RetryAfter = b.RetryAfter(time.Now())
		}
	} else if o.Err = judge(); o.Err != nil {
		o.RetryAfter = breaker.FailureBackoff
	}
	var p *panics.Error
	if errors.As(o.Err, &p) && f.Panicked != nil {
		f.Panicked(t.Source, p)
	}
	o.Upstream, o.Dropped = rec.Requests()
	o.Duration = time.Since(start)
	return o
}
