// Package ratelimit is the vocabulary of partners' rates shared by the API
// (which applies them) and the fleet (which counts them across replicas): a
// key's rate, the budget left after a request, and the limiter interface
// both implement. It imports nothing of the service, so either side may
// depend on it without depending on the other.
package ratelimit

import (
	"context"
	"fmt"
	"math"
)

// Rate is a key's allowance: PerSecond on average, Burst at once.
type Rate struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}

// Check reports whether r is a rate a key may carry.
func (r Rate) Check() error {
	if !(r.PerSecond > 0) || math.IsInf(r.PerSecond, 0) {
		return fmt.Errorf("rate: per_second must be a positive number, got %v", r.PerSecond)
	}
	if r.Burst < 1 {
		return fmt.Errorf("rate: burst must be at least 1, got %d", r.Burst)
	}
	return nil
}

// Limiter keeps each key to its rate. A process-local limiter is one; a
// limiter shared by several instances implements the same interface, so a
// key's rate can become the fleet's without touching the handlers.
type Limiter interface {
	// Take spends cost requests (0 only looks) of the key id's budget and
	// reports what is left. An error means the budget could not be read.
	Take(ctx context.Context, id string, r Rate, cost int) (Quota, error)
}

// Quota is a key's budget after a Take, in the terms of the RateLimit
// headers: Limit is the burst, Remaining what may be sent at once now, Reset
// the seconds until the budget is whole again.
type Quota struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      int // seconds
	RetryAfter int // seconds, ≥ 1 when not Allowed
}
