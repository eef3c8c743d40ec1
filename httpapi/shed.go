package httpapi

import (
	"net/http"
	"sync/atomic"
)

// Overload bounds the requests this instance works on at once. Beyond the
// bound a request is answered 503 overloaded at once, before any upstream is
// called: a request that waited for a slot would spend its deadline queued
// inside the service, and the upstream calls it then made would overrun
// their own deadlines and open the breakers of healthy upstreams.
type Overload struct {
	slots chan struct{}
	shed  atomic.Uint64
}

// NewOverload returns a bound of max requests in flight.
func NewOverload(max int) *Overload {
	return &Overload{slots: make(chan struct{}, max)}
}

// InFlight is how many requests hold a slot now.
func (o *Overload) InFlight() int { return len(o.slots) }

// Shed is how many requests were answered 503 overloaded.
func (o *Overload) Shed() uint64 { return o.shed.Load() }

var errOverloaded = &Error{Status: http.StatusServiceUnavailable, Code: "overloaded",
	Message: "this instance is at its bound of requests in flight; retry in a second", RetryAfter: 1}

// errStarved answers a dealer-only request whose every source missed its
// deadline while this instance was measurably starved of CPU: the same 503
// overloaded as a shed request, since the cure is the same (retry soon,
// on another instance), and never dealer_upstream_unavailable, which would
// blame upstreams that were answering.
var errStarved = &Error{Status: http.StatusServiceUnavailable, Code: "overloaded",
	Message: "this instance was too busy to wait for the sources in time; retry in a second", RetryAfter: 1, Details: map[string]any{}}

// withOverload sheds what is beyond o's bound; a nil o bounds nothing.
func withOverload(o *Overload) middleware {
	return func(next http.Handler) http.Handler {
		if o == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case o.slots <- struct{}{}:
			default:
				o.shed.Add(1)
				writeError(w, r, nil, errOverloaded)
				return
			}
			defer func() { <-o.slots }()
			next.ServeHTTP(w, r)
		})
	}
}
