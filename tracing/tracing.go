// Package tracing sets up OpenTelemetry tracing from the standard OTEL_*
// environment variables. It is off unless they name an OTLP endpoint or
// exporter: then spans go over OTLP/HTTP (protobuf) in batches, and the
// exporter, the sampler and the batcher read the rest of their settings
// (headers, timeout, compression, OTEL_TRACES_SAMPLER …) from the same
// variables, as the SDK documents them.
//
// Spans are made where the work is: the API's request span (httpapi), one
// span per source's share of a request (fanout) and one per upstream HTTP
// exchange (sources). Those below the request take their tracer from the
// span in their context, so they cost nothing when tracing is off.
package tracing

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/lmn/aggregator/buildinfo"
)

// Enabled reports whether the environment asks for traces: an OTLP
// endpoint, or OTEL_TRACES_EXPORTER=otlp, and neither OTEL_SDK_DISABLED
// nor OTEL_TRACES_EXPORTER=none.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))) {
	case "none":
		return false
	case "otlp":
		return true
	case "":
	default:
		return false // an exporter this service does not have: said by FromEnv
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnv returns the tracer provider the environment asks for, and the
// function that flushes and stops it at shutdown. Off, it is a no-op
// provider that records nothing.
func FromEnv(ctx context.Context, getenv func(string) string) (trace.TracerProvider, func(context.Context) error, error) {
	off := func(context.Context) error { return nil }
	exporter := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")))
	if exporter != "" && exporter != "otlp" && exporter != "none" {
		return nil, nil, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER=%q: only otlp (OTLP over HTTP) or none", exporter)
	}
	if p := getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && p != "http/protobuf" {
		return nil, nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_PROTOCOL=%q: only http/protobuf", p)
	}
	if !Enabled(getenv) {
		return noop.NewTracerProvider(), off, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	b := buildinfo.Get()
	// The service's own name and version first: OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES override them.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "aggregator"), attribute.String("service.version", b.Version),
			attribute.String("vcs.ref.head.revision", b.Revision)),
		resource.WithFromEnv(), resource.WithHost(), resource.WithProcessRuntimeVersion())
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}
