package fanout

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// startSourceSpan starts the span of one source's share of a request, a
// child of the request's span; it records nothing when the request has
// none. It is started before the source's deadline is set and ended after
// the breaker returns, so a hung source's span ends at its deadline.
func startSourceSpan(ctx context.Context, s vehicle.Source, b *breaker.Breaker) (context.Context, trace.Span) {
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
	span.SetAttributes(attribute.String("lmn.outcome", o.Label()), attribute.Bool("lmn.slow", o.Slow))
	if st := o.Starvation; st != (Starvation{}) {
		span.SetAttributes(attribute.Float64("lmn.starvation.lateness_ms", ms(st.Lateness)),
			attribute.Float64("lmn.starvation.sched_latency_ms", ms(st.SchedLatency)))
	}
	for _, p := range o.Upstream {
		span.AddEvent("upstream call", trace.WithTimestamp(p.End), trace.WithAttributes(phaseAttributes(p)...))
	}
	if o.Err != nil {
		span.SetStatus(codes.Error, o.Err.Error())
	}
	span.End()
}

// phaseAttributes says where one upstream exchange spent its time, as
// on-call reads it on the status page: each phase reached, in milliseconds
// from the one before, where it was cut off, and what came back.
func phaseAttributes(p sources.Phases) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attribute.String("url.path", p.Path),
		attribute.Int("http.response.status_code", p.Status),
		attribute.Int64("lmn.body_bytes", p.BodyBytes),
		attribute.String("lmn.outcome", p.Outcome),
		attribute.String("lmn.summary", p.Summary()),
	}
	if s := p.Stopped(); s != "" {
		attrs = append(attrs, attribute.String("lmn.phase.stopped", s))
	}
	between := func(name string, from, to time.Time) {
		if !from.IsZero() && !to.IsZero() {
			attrs = append(attrs, attribute.Float64("lmn.phase."+name+"_ms", ms(to.Sub(from))))
		}
	}
	between("connect", p.ConnectStart, p.ConnectDone)
	between("tls", p.TLSStart, p.TLSDone)
	between("first_byte", p.Wrote, p.FirstByte)
	between("body", p.FirstByte, p.BodyDone)
	between("total", p.Start, p.End)
	return attrs
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
