// Package panics turns a panic into an error: a bug in one source's code
// fails that source for the request instead of killing the process.
package panics

import (
	"fmt"
	"runtime/debug"
)

// Error is a recovered panic with the stack it was raised on.
type Error struct {
	Value any
	Stack []byte
}

func (e *Error) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Contain turns a panic in the calling goroutine into an *Error in *err.
// A fan-out task's own goroutine is covered by the fan-out; a goroutine a
// task starts must defer Contain first thing, since a panic cannot cross
// goroutines:
//
//	wg.Go(func() { defer panics.Contain(&errs[i]); … })
func Contain(err *error) {
	if p := recover(); p != nil {
		*err = &Error{Value: p, Stack: debug.Stack()}
	}
}
