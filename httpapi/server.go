// Package httpapi is the HTTP face of the service: the public API under /v1
// and the admin listener for on-call. Every route is in routes.go.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/search"
	"github.com/lmn/aggregator/vehicle"
)

// Deps is what the handlers need.
type Deps struct {
	Log      *slog.Logger
	Search   *search.Service
	Cursors  *cursor.Codec
	Keys     *Keys
	FXRate   float64       // won per dollar
	Deadline time.Duration // whole-request deadline
	Metrics  Observer      // nil for none; told partners too when it is a PartnerObserver
	Overload *Overload     // bound of requests in flight; nil for none
	// Limiter keeps keys to their rates; nil for one in this process.
	Limiter Limiter
	// TrustedProxies may set X-Forwarded-For (SPEC §9).
	TrustedProxies []netip.Prefix
	// Now is the clock of the rate limits; nil for time.Now.
	Now func() time.Time
	// Tracing, when not nil, makes a span of every request (package
	// tracing builds it from the OTEL_* variables).
	Tracing trace.TracerProvider
}

// Observer is told what the API did, for metrics.
type Observer interface {
	Request(route string, status int, d time.Duration)
	Partial(failed []vehicle.Source)
	DealersUnavailable()
}

// nopObserver stands in when no metrics are wanted.
type nopObserver struct{}

func (nopObserver) Request(string, int, time.Duration) {}
func (nopObserver) Partial([]vehicle.Source)           {}
func (nopObserver) DealersUnavailable()                {}

// NewServer returns the public API handler.
func NewServer(d Deps) http.Handler {
	if d.Metrics == nil {
		d.Metrics = nopObserver{}
	}
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return chain(mux,
		withGzip,
		withRequestID,
		withTracing(d.Tracing, mux),
		withAccessLog(d.Log, mux, d.Metrics.Request),
		withRecover(d.Log),
		withCleanPath(d.Log),
		withOverload(d.Overload),
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
	Breakers []*breaker.Breaker
	// Auctions are the auction indexes, for readiness and on-call.
	Auctions []AuctionState
	Metrics  http.Handler // served at /metrics when not nil
	// MetricsApart: /metrics has a listener of its own (-metrics-addr).
	MetricsApart bool
	// Token, when set, is required as Authorization: Bearer on control
	// routes, pprof and /sim.
	Token string
	// Draining, when it reports true, fails /readyz: the instance is
	// shutting down and load balancers should stop sending to it.
	Draining func() bool
	// Sim, when not nil, is mounted at /sim for the simulator's fault control.
	Sim http.Handler
	// Fleet, when not nil, reports the shared state's health in
	// /readyz?verbose and on the status page. Its "ok" false makes the
	// instance unready: only when Redis is required (-redis-required);
	// otherwise an instance without Redis serves alone.
	Fleet func() map[string]any
	// SimModes are the simulator's modes, offered as buttons on the status
	// page when Sim is set.
	SimModes []string
	// Timeline, when not nil, draws each source's last hour on the status
	// page; its owner runs it.
	Timeline *Timeline
	// AuthFailed, when not nil, is told of each wrong admin token presented
	// (throttled: refused without being looked at, the address having
	// guessed too often).
	AuthFailed func(throttled bool)
	// Override, when not nil, tells the other replicas about an operator's
	// action on a breaker, already applied here.
	Override func(ctx context.Context, source, action, reason string) error
}

// AuctionState is an auction index as readiness and on-call see it.
type AuctionState interface {
	Source() vehicle.Source
	Status() auction.Status
}

// NewAdmin returns the admin handler: health, readiness, breakers, pprof.
func NewAdmin(d AdminDeps) http.Handler {
	mux := http.NewServeMux()
	addAdminRoutes(mux, d)
	return chain(mux, withRequestID, withRecover(d.Log), withCleanPath(d.Log))
}

// NewHealth returns the handler of the health address: liveness and
// readiness only, with no token, so an orchestrator's probes can reach them
// on the pod's address while the admin listener stays private (SPEC §8).
func NewHealth(d AdminDeps) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.HandleFunc("GET /readyz", handleReadyz(d))
	return chain(mux, withRequestID, withRecover(d.Log), withCleanPath(d.Log))
}
