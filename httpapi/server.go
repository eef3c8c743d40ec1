// Package httpapi is the HTTP face of the service: the public API under /v1
// and the admin listener for on-call. Every route is in routes.go.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/search"
	"github.com/lmn/aggregator/sources/glovis"
)

// Deps is what the handlers need.
type Deps struct {
	Log      *slog.Logger
	Search   *search.Service
	Cursors  *cursor.Codec
	Keys     *Keys
	FXRate   float64       // won per dollar
	Deadline time.Duration // whole-request deadline
}

// NewServer returns the public API handler.
func NewServer(d Deps) http.Handler {
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return chain(mux,
		withRequestID,
		withAccessLog(d.Log, nil),
		withRecover(d.Log),
		withDeadline(d.Deadline),
	)
}

// withDeadline bounds the whole request; each source has a shorter deadline
// of its own inside it.
func withDeadline(d time.Duration) middleware {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// AdminDeps is what the admin listener needs.
type AdminDeps struct {
	Log      *slog.Logger
	Breakers []*fanout.Breaker
	Auction  *glovis.Store
	// Sim, when not nil, is mounted at /sim for the simulator's fault control.
	Sim http.Handler
}

// NewAdmin returns the admin handler: health, readiness, breakers, pprof.
func NewAdmin(d AdminDeps) http.Handler {
	mux := http.NewServeMux()
	addAdminRoutes(mux, d)
	return chain(mux, withRequestID, withRecover(d.Log))
}
