package fanout

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/lmn/aggregator/vehicle"
)

// startSourceSpan starts the span of one source's share of a request, a
// child of the request's span; it records nothing when the request has
// none. It is started before the source's deadline is set and ended after
// the breaker returns, so a hung source's span ends at its deadline.
func startSourceSpan(ctx context.Context, s vehicle.Source, b *Breaker) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	attrs := []attribute.KeyValue{attribute.String("lmn.source", string(s))}
	if b != nil {
		attrs = append(attrs, attribute.String("lmn.breaker.state", b.State()))
	}
	return parent.TracerProvider().Tracer("github.com/lmn/aggregator/fanout").
		Start(ctx, "upstream "+string(s), trace.WithAttributes(attrs...))
}

// endSourceSpan records the call's outcome (the metric's label) and ends
// the span.
func endSourceSpan(span trace.Span, o Outcome) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("lmn.outcome", o.Label()))
	if o.Err != nil {
		span.SetStatus(codes.Error, o.Err.Error())
	}
	span.End()
}
