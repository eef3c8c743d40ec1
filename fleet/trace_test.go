package fleet_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/lmn/aggregator/fleet"
	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/internal/redistest"
	"github.com/lmn/aggregator/search"
)

// TestRedisCommandsAreTraced: the Redis commands a traced request makes
// (here the fleet's rate limit) are spans below the request's, naming the
// command and never its keys.
func TestRedisCommandsAreTraced(t *testing.T) {
	srv := redistest.Start(t)
	const key = "lmn_stg_acme0000000000000001"
	keys := httpapi.NewKeys("stg")
	require.NoError(t, keys.AddEntry(httpapi.Entry{Partner: "acme", Key: key, Rate: &httpapi.Rate{PerSecond: 10, Burst: 10}}))
	f := start(t, srv, "a")
	spans := tracetest.NewInMemoryExporter()
	h := httpapi.NewServer(httpapi.Deps{Log: slog.New(slog.DiscardHandler), Keys: keys, Search: &search.Service{},
		Limiter: fleet.NewLimiter(f, httpapi.NewLocalLimiter(time.Now)), Tracing: sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))})
	req := httptest.NewRequest(http.MethodGet, "/v1/vehicles/not-an-id", nil)
	req.Header.Set("x-api-key", key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNotFound, rec.Code, "admitted by the fleet's limiter")
	require.NotEmpty(t, rec.Header().Get("RateLimit-Remaining"))

	var server tracetest.SpanStub
	for _, s := range spans.GetSpans() {
		if s.SpanKind == trace.SpanKindServer {
			server = s
		}
	}
	var commands []string
	for _, s := range spans.GetSpans() {
		if !strings.HasPrefix(s.Name, "redis ") {
			continue
		}
		commands = append(commands, s.Name)
		assert.Equal(t, server.SpanContext.SpanID(), s.Parent.SpanID(), "%s below the request", s.Name)
		assert.Equal(t, trace.SpanKindClient, s.SpanKind)
		for _, a := range s.Attributes {
			assert.NotContains(t, a.Value.Emit(), "acme", "%s names no key or partner", s.Name)
		}
	}
	assert.NotEmpty(t, commands, "the rate limit's Redis commands are spans")
	t.Logf("Redis spans of one request: %v", commands)
}
