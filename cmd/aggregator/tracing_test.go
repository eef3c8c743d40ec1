package main

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes each export with
// the protocol's own protobuf messages.
type otlpReceiver struct {
	mu       sync.Mutex
	exports  int
	spans    []*tracepb.Span
	resource map[string]string
}

func (rcv *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a protobuf POST to /v1/traces", http.StatusBadRequest)
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rcv.mu.Lock()
	rcv.exports++
	for _, rs := range req.ResourceSpans {
		rcv.resource = map[string]string{}
		for _, kv := range rs.Resource.GetAttributes() {
			rcv.resource[kv.Key] = kv.Value.GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			rcv.spans = append(rcv.spans, ss.Spans...)
		}
	}
	rcv.mu.Unlock()
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// TestTracesOverOTLP runs serve with the standard OTEL_* variables pointing
// at a receiver, sends it a search with a traceparent, stops it, and reads
// what arrived: the request's span in the client's trace and, below it, the
// sources' and the upstream exchanges' spans.
func TestTracesOverOTLP(t *testing.T) {
	rcv := &otlpReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_SERVICE_NAME", "aggregator-test")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	getenv := func(k string) string {
		if strings.HasPrefix(k, "OTEL_") {
			return os.Getenv(k)
		}
		return ""
	}
	go func() {
		done <- run(ctx, []string{"serve", "-sim", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-log-format", "json",
			"-drain-delay", "0s", "-encar-timeout", "30s", "-danawa-timeout", "30s", "-deadline", "1m"}, getenv, &stdout, &stderr)
	}()
	var api string
	require.Eventually(t, func() bool {
		a := apiRe.FindStringSubmatch(stdout.String())
		if a != nil {
			api = a[1]
		}
		return a != nil
	}, time.Minute, 20*time.Millisecond, "serve printed no address: %s", stderr.String())
	assert.Contains(t, stderr.String(), `"msg":"tracing: spans go over OTLP/HTTP","endpoint":"`+srv.URL+`"`)

	const traceID, parent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	req, _ := http.NewRequest(http.MethodGet, api+"/v1/vehicles?source=dealer&make=Kia&limit=5", nil)
	req.Header.Set("x-api-key", DemoKey)
	req.Header.Set("traceparent", "00-"+traceID+"-"+parent+"-01")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	cancel() // shutting down sends the spans still batched
	require.NoError(t, <-done)
	assert.Regexp(t, `"msg":"request".*"trace_id":"`+traceID+`"`, stderr.String(), "the access log names the trace")

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	require.NotZero(t, rcv.exports, "nothing exported")
	assert.Equal(t, "aggregator-test", rcv.resource["service.name"], "OTEL_SERVICE_NAME is honoured")
	assert.Equal(t, "unknown", rcv.resource["service.version"])
	names := map[string]int{}
	for _, s := range rcv.spans {
		if hex.EncodeToString(s.TraceId) != traceID {
			// The startup crawl is a trace of its own.
			assert.Contains(t, []string{"auction crawl", "HTTP GET", "HTTP POST"}, s.Name, "a span outside the client's trace")
			continue
		}
		names[s.Name]++
		if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			assert.Equal(t, parent, hex.EncodeToString(s.ParentSpanId))
		}
	}
	assert.Equal(t, 1, names["GET /v1/vehicles"])
	assert.Equal(t, 1, names["upstream encar"])
	assert.Equal(t, 1, names["upstream danawa"])
	assert.NotZero(t, names["HTTP GET"])
}
