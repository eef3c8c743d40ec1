package httpapi

import (
	"net/http"
	"net/http/pprof"
)

// addRoutes lists every public route.
func addRoutes(mux *http.ServeMux, d Deps) {
	auth := withAccess(d)
	query := withWellFormedQuery(d.Log)
	mux.Handle("GET /v1/vehicles", auth(query(handleSearch(d))))
	mux.Handle("GET /v1/vehicles/facets", auth(query(handleFacets(d))))
	mux.HandleFunc("GET /v1/openapi.json", handleOpenAPI)
	mux.Handle("GET /v1/vehicles/{id}", auth(handleVehicle(d)))
	mux.Handle("/", handleUnknown(d, mux))
}

// addAdminRoutes lists every admin route. The admin listener binds to
// loopback by default and is never the public address.
func addAdminRoutes(mux *http.ServeMux, d AdminDeps) {
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.HandleFunc("GET /readyz", handleReadyz(d))
	mux.HandleFunc("GET /debug/breakers", handleBreakers(d))
	mux.HandleFunc("GET /debug/breakers/{source}", handleBreaker(d))
	mux.HandleFunc("POST /debug/breakers/{source}", handleBreakerAction(d))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	if d.Metrics != nil {
		mux.Handle("GET /metrics", d.Metrics)
	}
	if d.Sim != nil {
		mux.Handle("/sim", d.Sim)
		mux.Handle("/sim/", d.Sim)
	}
	addStatusRoutes(mux, d)
}

// addStatusRoutes lists the status page's routes: the page, its forms, and
// the login that trades the admin token for a cookie.
func addStatusRoutes(mux *http.ServeMux, d AdminDeps) {
	token := withStatusToken(d)
	mux.Handle("GET /{$}", http.RedirectHandler("/status", http.StatusSeeOther))
	mux.Handle("GET /status", token(handleStatus(d)))
	mux.Handle("POST /status/breakers/{source}", withOwnPage(token(handleStatusBreaker(d))))
	if d.Sim != nil {
		mux.Handle("POST /status/sim/{source}", withOwnPage(token(handleStatusSim(d))))
	}
	mux.Handle("POST /status/login", withOwnPage(handleStatusLogin(d)))
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
				w.Header().Set("Allow", m)
				writeError(w, r, d.Log, errMethodNotAllowed)
				return
			}
		}
		writeError(w, r, d.Log, errNotFound)
	}
}
