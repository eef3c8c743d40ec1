package httpapi

import (
	"net/http"
	"net/http/pprof"
	"time"
)

// addRoutes lists every public route.
func addRoutes(mux *http.ServeMux, d Deps) {
	auth := withAccess(d)
	wellFormed := withWellFormedQuery(d.Log)
	query := func(h http.Handler) http.Handler { return withRequestLimits(wellFormed(h)) }
	mux.Handle("GET /v1/vehicles", auth(query(handleSearch(d))))
	mux.Handle("GET /v1/vehicles/facets", auth(query(withETag(handleFacets(d)))))
	mux.Handle("GET /v1/openapi.json", withETag(http.HandlerFunc(handleOpenAPI)))
	mux.Handle("GET /v1/vehicles/{id}", auth(withETag(handleVehicle(d))))
	mux.Handle("/", handleUnknown(d, mux))
}

// addAdminRoutes lists every admin route. The admin listener binds to
// loopback by default and is never the public address. Routes that change
// something or show the process's insides need the admin token when one is
// set; control requests must also be JSON or a same-origin form (CSRF).
func addAdminRoutes(mux *http.ServeMux, d AdminDeps) {
	gate := newAdminGate(d, time.Now)
	guard := gate.bearer
	control := func(h http.Handler) http.Handler { return guard(withControlGuard(h)) }
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.HandleFunc("GET /readyz", handleReadyz(d))
	mux.HandleFunc("GET /debug/breakers", handleBreakers(d))
	mux.HandleFunc("GET /debug/breakers/{source}", handleBreaker(d))
	mux.Handle("POST /debug/breakers/{source}", control(handleBreakerAction(d)))
	mux.Handle("GET /debug/pprof/", guard(http.HandlerFunc(pprof.Index)))
	// Not served: the command line holds whatever secrets were given as flags.
	mux.HandleFunc("GET /debug/pprof/cmdline", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, d.Log, errNotFound)
	})
	mux.Handle("GET /debug/pprof/profile", guard(http.HandlerFunc(pprof.Profile)))
	mux.Handle("GET /debug/pprof/symbol", guard(http.HandlerFunc(pprof.Symbol)))
	mux.Handle("GET /debug/pprof/trace", guard(http.HandlerFunc(pprof.Trace)))
	if d.Metrics != nil && !d.MetricsApart {
		mux.Handle("GET /metrics", d.Metrics)
	}
	if d.Sim != nil {
		mux.Handle("/sim", guard(d.Sim))
		mux.Handle("/sim/", guard(d.Sim))
	}
	addStatusRoutes(mux, d, gate)
}

// addStatusRoutes lists the status page's routes: the page, its forms, and
// the login that trades the admin token for a cookie.
func addStatusRoutes(mux *http.ServeMux, d AdminDeps, gate *adminGate) {
	token := withStatusToken(d, gate)
	mux.Handle("GET /{$}", http.RedirectHandler("/status", http.StatusSeeOther))
	mux.Handle("GET /status", token(handleStatus(d)))
	mux.Handle("POST /status/breakers/{source}", withOwnPage(token(handleStatusBreaker(d))))
	if d.Sim != nil {
		mux.Handle("POST /status/sim/{source}", withOwnPage(token(handleStatusSim(d))))
	}
	mux.Handle("POST /status/login", withOwnPage(handleStatusLogin(d, gate)))
}

// allow is the Allow header of a path served under method m: a GET route
// serves HEAD too (net/http answers it with the GET handler).
func allow(m string) string {
	if m == http.MethodGet {
		return "GET, HEAD"
	}
	return m
}

// handleUnknown answers what no route matched: 405 when the path exists
// under another method, 404 otherwise, both in the error envelope.
func handleUnknown(d Deps, mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				w.Header().Set("Allow", allow(m))
				writeError(w, r, d.Log, errMethodNotAllowed)
				return
			}
		}
		writeError(w, r, d.Log, errNotFound)
	}
}
