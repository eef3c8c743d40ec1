package httpapi_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// upstreamTap stands between the service and a simulated upstream and
// writes down what the service sent it and how many body bytes it answered.
type upstreamTap struct {
	mu      sync.Mutex
	headers []http.Header
	bytes   int64
}

type countingWriter struct {
	http.ResponseWriter
	tap *upstreamTap
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.tap.mu.Lock()
	w.tap.bytes += int64(n)
	w.tap.mu.Unlock()
	return n, err
}

func (w countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (tap *upstreamTap) in(t *testing.T, target string) string {
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // a hung upstream's canceled calls
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tap.mu.Lock()
		tap.headers = append(tap.headers, r.Header.Clone())
		tap.mu.Unlock()
		proxy.ServeHTTP(countingWriter{w, tap}, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// tracedStack is a stack whose API records its spans in memory and whose
// dealer upstreams are tapped.
func tracedStack(t *testing.T, options ...func(*service.Config)) (*stack, *tracetest.InMemoryExporter, *upstreamTap) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	tap := &upstreamTap{}
	st := newStack(t, neverTrips, append([]func(*service.Config){func(c *service.Config) {
		c.Tracing = tp
		for _, src := range []vehicle.Source{vehicle.Encar, vehicle.Danawa} {
			st := c.Sources[src]
			st.URL = tap.in(t, st.URL)
			c.Sources[src] = st
		}
	}}, options...)...)
	return st, spans, tap
}

const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientParent = "00f067aa0ba902b7"
)

func tracedGet(t *testing.T, st *stack, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, st.api.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("x-api-key", demoKey)
	req.Header.Set("traceparent", "00-"+clientTrace+"-"+clientParent+"-01")
	req.Header.Set("tracestate", "partner=abc")
	req.Header.Set("baggage", "user=someone")
	resp, err := st.client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func attr(s tracetest.SpanStub, key string) attribute.Value {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value
		}
	}
	return attribute.Value{}
}

// TestTraceOfASearch: the request's span continues the client's trace;
// below it a span per source's share and, below those, one per exchange
// with the upstream, with its status and body size; and nothing of the
// trace reaches the upstream sites.
func TestTraceOfASearch(t *testing.T) {
	st, spans, tap := tracedStack(t)
	resp := tracedGet(t, st, "/v1/vehicles?make=Kia&limit=20")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	got := spans.GetSpans()
	byID := map[trace.SpanID]tracetest.SpanStub{}
	var server tracetest.SpanStub
	for _, s := range got {
		byID[s.SpanContext.SpanID()] = s
		assert.Equal(t, clientTrace, s.SpanContext.TraceID().String(), "%s is in the client's trace", s.Name)
		if s.SpanKind == trace.SpanKindServer {
			server = s
		}
	}
	require.Equal(t, "GET /v1/vehicles", server.Name)
	assert.Equal(t, clientParent, server.Parent.SpanID().String(), "the client's span is the request span's parent")
	assert.True(t, server.Parent.IsRemote())
	assert.Equal(t, int64(200), attr(server, "http.response.status_code").AsInt64())
	assert.Equal(t, "/v1/vehicles", attr(server, "http.route").AsString())
	assert.Equal(t, resp.Header.Get("X-Request-Id"), attr(server, "lmn.request_id").AsString())

	sources := map[string]bool{}
	var exchanges int
	var body int64
	for _, s := range got {
		switch {
		case strings.HasPrefix(s.Name, "upstream "):
			assert.Equal(t, server.SpanContext.SpanID(), s.Parent.SpanID(), "%s under the request", s.Name)
			src := attr(s, "lmn.source").AsString()
			assert.Equal(t, "upstream "+src, s.Name)
			assert.Equal(t, "success", attr(s, "lmn.outcome").AsString(), s.Name)
			assert.Equal(t, "closed", attr(s, "lmn.breaker.state").AsString(), s.Name)
			sources[src] = true
		case s.SpanKind == trace.SpanKindClient:
			parent := byID[s.Parent.SpanID()]
			require.True(t, strings.HasPrefix(parent.Name, "upstream "), "%s under a source's span, not %q", s.Name, parent.Name)
			assert.Equal(t, "HTTP GET", s.Name)
			assert.Equal(t, int64(200), attr(s, "http.response.status_code").AsInt64())
			assert.Equal(t, "127.0.0.1", attr(s, "server.address").AsString())
			assert.NotContains(t, attr(s, "url.path").AsString(), "?")
			exchanges++
			body += attr(s, "http.response.body.size").AsInt64()
		}
	}
	assert.Equal(t, map[string]bool{"encar": true, "danawa": true}, sources)

	tap.mu.Lock()
	defer tap.mu.Unlock()
	assert.Equal(t, len(tap.headers), exchanges, "a span per exchange the upstreams saw")
	assert.Equal(t, tap.bytes, body, "the spans' body sizes are the bytes the upstreams sent")
	require.NotEmpty(t, tap.headers)
	for _, h := range tap.headers {
		for _, name := range []string{"Traceparent", "Tracestate", "Baggage", "B3", "X-B3-Traceid", "Uber-Trace-Id"} {
			assert.Empty(t, h.Values(name), "%s sent to an upstream site", name)
		}
		for name, vs := range h {
			for _, v := range vs {
				assert.NotContains(t, v, clientTrace, "the trace id went upstream in %s", name)
			}
		}
	}
}

// TestTraceOfAHungSource: with Encar hanging, its span ends at its
// deadline, a timeout, while Danawa's succeeded and the request answered
// without Encar.
func TestTraceOfAHungSource(t *testing.T) {
	st, spans, _ := tracedStack(t, hung("encar"))
	require.NoError(t, st.sim.SetFault("encar", sim.Fault{Mode: sim.Hang}))
	resp := tracedGet(t, st, "/v1/vehicles?source=dealer&make=Kia&limit=20")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "encar", resp.Header.Get("X-LMN-Partial-Dealer-Unavailable"))

	var server, encar, danawa, exchange tracetest.SpanStub
	for _, s := range spans.GetSpans() {
		switch {
		case s.SpanKind == trace.SpanKindServer:
			server = s
		case s.Name == "upstream encar":
			encar = s
		case s.Name == "upstream danawa":
			danawa = s
		}
	}
	for _, s := range spans.GetSpans() {
		if s.SpanKind == trace.SpanKindClient && s.Parent.SpanID() == encar.SpanContext.SpanID() {
			exchange = s
		}
	}
	require.Equal(t, "upstream encar", encar.Name)
	assert.Equal(t, "timeout", attr(encar, "lmn.outcome").AsString())
	assert.Equal(t, codes.Error, encar.Status.Code)
	took := encar.EndTime.Sub(encar.StartTime)
	assert.GreaterOrEqual(t, took, hungTimeout, "Encar's span lasts until its deadline")
	assert.Less(t, took, requestDeadline, "and ends there, not with the request's deadline")
	assert.False(t, encar.EndTime.After(server.EndTime), "inside the request's span")
	require.Equal(t, "HTTP GET", exchange.Name, "the hung exchange has its span")
	assert.Equal(t, codes.Error, exchange.Status.Code)
	assert.NotEmpty(t, exchange.Status.Description, "why it failed")
	assert.Zero(t, attr(exchange, "http.response.status_code").AsInt64(), "no answer came")
	assert.Equal(t, "success", attr(danawa, "lmn.outcome").AsString())

	// The phases of the hung exchange: the simulator's hang takes the
	// request and never sends a header, so the call was cut off waiting
	// for the first byte, and no first-byte time can be given.
	require.Len(t, encar.Events, 1, "one event per upstream exchange")
	ev := encar.Events[0]
	assert.Equal(t, "upstream call", ev.Name)
	evAttr := map[string]attribute.Value{}
	for _, kv := range ev.Attributes {
		evAttr[string(kv.Key)] = kv.Value
	}
	assert.Equal(t, "first_byte", evAttr["lmn.phase.stopped"].AsString())
	assert.Equal(t, "timeout", evAttr["lmn.outcome"].AsString())
	assert.NotContains(t, evAttr, "lmn.phase.first_byte_ms")
	assert.GreaterOrEqual(t, evAttr["lmn.phase.total_ms"].AsFloat64(), float64(hungTimeout/time.Millisecond)*0.9,
		"the exchange ran until the source's deadline")
	assert.Contains(t, evAttr["lmn.summary"].AsString(), "no first byte after")
}
