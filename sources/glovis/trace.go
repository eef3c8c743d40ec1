package glovis

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// startSpan starts the span of one crawl, a trace of its own: each page
// fetched is a child span (sources' HTTP client). Without a Tracer it
// records nothing.
func (c *Crawler) startSpan(ctx context.Context) (context.Context, trace.Span) {
	if c.Tracer == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	return c.Tracer.Tracer("github.com/lmn/aggregator/sources/glovis").Start(ctx, "auction crawl",
		trace.WithNewRoot(), trace.WithAttributes(attribute.StringSlice("lmn.glovis.sites", c.Sites)))
}

func endCrawlSpan(span trace.Span, err error, st Status) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.Int("lmn.auction.rows", st.Rows))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
