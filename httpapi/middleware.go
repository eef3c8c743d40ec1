package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/lmn/aggregator/fanout"
)

// middleware wraps a handler.
type middleware func(http.Handler) http.Handler

// chain applies mws so that the first is outermost.
func chain(h http.Handler, mws ...middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

type ctxKey struct{}

// requestInfo travels with a request so the access log can report what the
// handler learnt (each source's outcome) without the handler logging itself.
type requestInfo struct {
	id       string
	outcomes []fanout.Outcome
}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(ctxKey{}).(*requestInfo)
	return ri
}

func requestID(ctx context.Context) string {
	if ri := info(ctx); ri != nil {
		return ri.id
	}
	return ""
}

// noteOutcomes records the sources' outcomes for the access log.
func noteOutcomes(ctx context.Context, o []fanout.Outcome) {
	if ri := info(ctx); ri != nil {
		ri.outcomes = append(ri.outcomes, o...)
	}
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "req_" + hex.EncodeToString(b[:])
}

// withRequestID gives every request an id, on the response and in the context.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := &requestInfo{id: newRequestID()}
		w.Header().Set("X-Request-Id", ri.id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri)))
	})
}

// statusWriter remembers the status for the access log, and whether the
// client had gone (ctx canceled) before the answer began.
type statusWriter struct {
	http.ResponseWriter
	ctx    context.Context
	status int
	wrote  bool
	gone   bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote, w.gone = code, true, clientGone(w.ctx)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote, w.gone = http.StatusOK, true, clientGone(w.ctx)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withAccessLog logs one line per request: id, route, status, duration in
// milliseconds and each source's outcome and duration. Query strings and headers are not logged: they can
// carry keys. The route is the mux pattern, so metrics labels stay bounded.
func withAccessLog(log *slog.Logger, mux *http.ServeMux, observe func(route string, status int, d time.Duration)) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w, ctx: r.Context(), status: http.StatusOK}
			next.ServeHTTP(sw, r)
			d := time.Since(start)
			status := sw.answered()
			route := "unmatched"
			if _, pattern := mux.Handler(r); pattern != "" && pattern != "/" {
				route = pattern
			}
			attrs := []slog.Attr{
				slog.String("request_id", requestID(r.Context())),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Float64("duration_ms", Millis(d)),
			}
			if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
				attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
			}
			if ri := info(r.Context()); ri != nil {
				for _, o := range ri.outcomes {
					g := []any{slog.String("outcome", o.Label()), slog.Float64("duration_ms", Millis(o.Duration))}
					if o.Err != nil {
						// Errors name what was wrong ("drift: missing SearchResults"),
						// never the page itself.
						g = append(g, slog.String("error", o.Err.Error()))
					}
					attrs = append(attrs, slog.Group(string(o.Source), g...))
				}
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
			if observe != nil {
				observe(route, status, d)
			}
		})
	}
}

// Millis is d in milliseconds to the microsecond, the unit of every
// duration the logs carry (under a key ending in _ms): a number a log query
// can compare, where a Go duration is a string or integer nanoseconds.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// withRecover turns a panic into a 500 with the generic message, logged with
// the request id and stack.
func withRecover(log *slog.Logger) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "panic", "request_id", requestID(r.Context()),
						"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					writeError(w, r, log, errInternal)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// withCleanPath answers a path that is not in its clean form ("//v1/vehicles",
// "/v1/./vehicles") with 404 in the error envelope. ServeMux would redirect
// it with an HTML body, which a partner's client either follows without
// noticing its own bug or fails to parse.
func withCleanPath(log *slog.Logger) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if clean := cleanPath(r.URL.Path); clean != r.URL.Path && r.Method != http.MethodConnect {
				writeError(w, r, log, &Error{Status: http.StatusNotFound, Code: "not_found",
					Message: "no such route; the path is not in its clean form", Details: map[string]any{"clean_path": clean}})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// cleanPath is the path ServeMux would redirect p to: p cleaned, keeping a
// trailing slash.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}

// withWellFormedQuery answers a query string that does not parse with a
// 400 listing every malformed pair, before the handler reads r.URL.Query(),
// which would silently leave those pairs out.
func withWellFormedQuery(log *slog.Logger) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if issues := queryIssues(r.URL.RawQuery); len(issues) > 0 {
				writeError(w, r, log, validationError(issues))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// writeJSON writes v; answers are live data and are not to be cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSONCached(w, status, v)
}

// writeJSONCached writes v, leaving Cache-Control to the caller.
func writeJSONCached(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may have gone; nothing to do about it here
}
