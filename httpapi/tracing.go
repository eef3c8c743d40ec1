package httpapi

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traceContext reads and writes W3C traceparent/tracestate, nothing else:
// no baggage, which would carry whatever a client put in it.
var traceContext = propagation.TraceContext{}

// withTracing makes a server span of each API request, the child of the
// client's span when it sends a traceparent. The spans of each source's
// share (fanout) and of each upstream exchange (sources) hang below it.
// Nothing of the trace context ever goes to the upstream sites: no code
// here or below injects it into an outgoing request.
func withTracing(tp trace.TracerProvider, mux *http.ServeMux) middleware {
	return func(next http.Handler) http.Handler {
		if tp == nil {
			return next
		}
		tracer := tp.Tracer("github.com/lmn/aggregator/httpapi")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := traceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			name, route := r.Method, ""
			if _, pattern := mux.Handler(r); pattern != "" && pattern != "/" {
				name = pattern
				if _, path, ok := strings.Cut(pattern, " "); ok {
					route = path
				}
			}
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("url.path", r.URL.Path),
				attribute.String("lmn.request_id", requestID(r.Context())),
			))
			defer span.End()
			if route != "" {
				span.SetAttributes(attribute.String("http.route", route))
			}
			sw := &statusWriter{ResponseWriter: w, ctx: r.Context(), status: http.StatusOK}
			next.ServeHTTP(sw, r.WithContext(ctx))
			status := sw.answered()
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 && status != StatusClientClosed {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
		})
	}
}
