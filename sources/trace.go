package sources

import (
	"io"
	"net/http"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracedTransport makes a client span of each HTTP exchange with an
// upstream (each redirect hop its own), below the span in the request's
// context; without one it adds nothing. The span ends when the body is
// closed, with the status and the body's size in bytes. It sends nothing:
// the upstream sites never see a trace header.
type tracedTransport struct {
	next http.RoundTripper
}

func (t tracedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := trace.SpanFromContext(req.Context())
	if !parent.IsRecording() {
		return t.next.RoundTrip(req)
	}
	ctx, span := parent.TracerProvider().Tracer("github.com/lmn/aggregator/sources").Start(req.Context(), "HTTP "+req.Method,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()),
			attribute.String("server.port", port(req.URL)),
			// The path only: the query carries the partner's filters.
			attribute.String("url.path", req.URL.Path),
		))
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		span.End()
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp, nil
}

// CloseIdleConnections passes the client's call on to the transport below:
// http.Client reaches a pool only through a transport that has this method,
// so without it the upstream connections would stay open after Close.
func (t tracedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// spanBody counts the bytes read of a body and ends its span on Close.
type spanBody struct {
	io.ReadCloser
	span trace.Span
	n    int64
	once sync.Once
}

func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err != nil && err != io.EOF {
		b.span.SetStatus(codes.Error, "reading the body: "+err.Error())
	}
	return n, err
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() {
		b.span.SetAttributes(attribute.Int64("http.response.body.size", b.n))
		b.span.End()
	})
	return err
}
