package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/vehicle"
)

// TestAccessLogDurationsInMilliseconds: the request's and each source's
// duration are numbers of milliseconds under keys that say so.
func TestAccessLogDurationsInMilliseconds(t *testing.T) {
	var logs bytes.Buffer
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/vehicles", func(w http.ResponseWriter, r *http.Request) {
		noteOutcomes(r.Context(), []fanout.Outcome{{Source: vehicle.Encar, Duration: 1500 * time.Microsecond}})
		w.WriteHeader(http.StatusOK)
	})
	h := chain(mux, withRequestID, withAccessLog(slog.New(slog.NewJSONHandler(&logs, nil)), mux, nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/vehicles", nil))

	var line map[string]any
	require.NoError(t, json.Unmarshal(logs.Bytes(), &line), logs.String())
	assert.NotContains(t, line, "duration")
	ms, ok := line["duration_ms"].(float64)
	require.True(t, ok, "duration_ms is a number: %s", logs.String())
	assert.GreaterOrEqual(t, ms, 0.0)
	assert.Less(t, ms, 60_000.0, "milliseconds, not nanoseconds")
	assert.Equal(t, map[string]any{"outcome": "success", "duration_ms": 1.5}, line["encar"])
}

// TestAccessLogCarriesTheTraceID: a request's log line names the trace it
// belongs to, the client's when it sent a traceparent, whether or not this
// service exports spans.
func TestAccessLogCarriesTheTraceID(t *testing.T) {
	for name, tp := range map[string]trace.TracerProvider{"exporting": sdktrace.NewTracerProvider(), "off": noop.NewTracerProvider()} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v1/vehicles", func(w http.ResponseWriter, r *http.Request) {})
			h := chain(mux, withRequestID, withTracing(tp, mux), withAccessLog(slog.New(slog.NewJSONHandler(&logs, nil)), mux, nil))
			req := httptest.NewRequest(http.MethodGet, "/v1/vehicles", nil)
			req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			h.ServeHTTP(httptest.NewRecorder(), req)
			var line map[string]any
			require.NoError(t, json.Unmarshal(logs.Bytes(), &line), logs.String())
			assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", line["trace_id"])
		})
	}
}
