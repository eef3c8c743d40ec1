package fleet

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// traceHook makes a client span of each Redis command (or pipeline) made
// within a traced request, below the request's span; without one it adds
// nothing. Spans name the command, never its keys or arguments: they hold
// key hashes and partners' rows.
type traceHook struct{}

func (traceHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (traceHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		ctx, span := startRedisSpan(ctx, cmd.Name(), 1)
		err := next(ctx, cmd)
		endRedisSpan(span, err)
		return err
	}
}

func (traceHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		ctx, span := startRedisSpan(ctx, "pipeline", len(cmds))
		err := next(ctx, cmds)
		endRedisSpan(span, err)
		return err
	}
}

func startRedisSpan(ctx context.Context, op string, n int) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	return parent.TracerProvider().Tracer("github.com/lmn/aggregator/fleet").Start(ctx, "redis "+op,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("db.system.name", "redis"),
			attribute.String("db.operation.name", op),
			attribute.Int("db.operation.batch.size", n),
		))
}

func endRedisSpan(span trace.Span, err error) {
	if !span.IsRecording() {
		return
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
