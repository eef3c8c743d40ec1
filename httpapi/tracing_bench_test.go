package httpapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// BenchmarkTracing is what the request span costs a request: none (no
// middleware), off (the no-op provider serve uses without OTEL_*), and on
// (every request recorded, spans dropped by an in-memory exporter reset
// each time).
func BenchmarkTracing(b *testing.B) {
	spans := tracetest.NewInMemoryExporter()
	for name, tp := range map[string]trace.TracerProvider{"none": nil, "off": noop.NewTracerProvider(),
		"on": sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))} {
		b.Run(name, func(b *testing.B) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v1/vehicles", func(w http.ResponseWriter, r *http.Request) {})
			h := chain(mux, withRequestID, withTracing(tp, mux), withAccessLog(slog.New(slog.DiscardHandler), mux, nil))
			req := httptest.NewRequest(http.MethodGet, "/v1/vehicles?make=Kia", nil)
			req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
				spans.Reset()
			}
		})
	}
}
