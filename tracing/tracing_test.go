package tracing

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestOffUnlessAsked(t *testing.T) {
	tests := []struct {
		env     map[string]string
		enabled bool
		err     bool
	}{
		{env: nil, enabled: false},
		{env: map[string]string{"OTEL_SERVICE_NAME": "x"}, enabled: false},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, enabled: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, enabled: true},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, enabled: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, enabled: false},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, enabled: false},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, err: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, enabled: true, err: true},
	}
	for _, tt := range tests {
		getenv := func(k string) string { return tt.env[k] }
		assert.Equal(t, tt.enabled, Enabled(getenv), "%v", tt.env)
		tp, stop, err := FromEnv(context.Background(), getenv)
		if tt.err {
			assert.Error(t, err, "%v", tt.env)
			continue
		}
		assert.NoError(t, err, "%v", tt.env)
		_, isNoop := tp.(noop.TracerProvider)
		assert.Equal(t, !tt.enabled, isNoop, "%v: a no-op provider when off", tt.env)
		assert.NoError(t, stop(context.Background()))
	}
}
