package sources

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"
)

// Phases is the time line of one HTTP request to an upstream, as net/http
// reports it through httptrace plus the end of the body, which only the
// reader sees. A zero time is a phase the request never reached: a call cut
// off by its deadline shows where it stopped. It is a plain value so that
// logs, the admin API and tracing spans can each take what they need.
type Phases struct {
	Path         string    // the URL's path; never its query, which carries partners' filters
	Start        time.Time // handed to the HTTP client
	DNSStart     time.Time // zero when the host is an address or the connection was reused
	DNSDone      time.Time
	ConnectStart time.Time // zero on a pooled connection
	ConnectDone  time.Time
	TLSStart     time.Time // zero on plain HTTP or a pooled connection
	TLSDone      time.Time
	GotConn      time.Time // a connection was ready, new or pooled
	Reused       bool      // the connection came from the pool
	Wrote        time.Time // the request was written
	FirstByte    time.Time // the first byte of the answer arrived
	BodyDone     time.Time // the body was read to its end
	End          time.Time // the call returned, done or failed
	Status       int       // 0 when no header arrived
	BodyBytes    int64     // body bytes read, also of a body cut short
	Outcome      string    // Outcome of the request's error ("success", "timeout", …)
}

// Stopped names the phase a request that did not finish was in when it
// ended: "connect", "tls", "request", "first_byte" or "body"; "" for a
// finished one.
func (p Phases) Stopped() string {
	switch {
	case !p.BodyDone.IsZero():
		return ""
	case !p.FirstByte.IsZero():
		return "body"
	case !p.Wrote.IsZero():
		return "first_byte"
	case !p.GotConn.IsZero():
		return "request"
	case !p.TLSStart.IsZero():
		return "tls"
	default:
		return "connect"
	}
}

// Summary says in a line what the upstream did, as on-call reads it:
// "connect 1ms, first byte in 40ms, body 12.0 KB in 11.9s (1.0 KB/s), cut off in the body".
func (p Phases) Summary() string {
	var b strings.Builder
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	if !p.ConnectStart.IsZero() {
		if p.ConnectDone.IsZero() {
			fmt.Fprintf(&b, "connecting for %s", ms(p.End.Sub(p.ConnectStart)))
		} else {
			fmt.Fprintf(&b, "connect %s", ms(p.ConnectDone.Sub(p.ConnectStart)))
		}
	} else if p.Reused {
		b.WriteString("pooled connection")
	}
	if !p.TLSStart.IsZero() {
		if p.TLSDone.IsZero() {
			fmt.Fprintf(&b, ", TLS handshake for %s", ms(p.End.Sub(p.TLSStart)))
		} else {
			fmt.Fprintf(&b, ", TLS %s", ms(p.TLSDone.Sub(p.TLSStart)))
		}
	}
	if !p.Wrote.IsZero() {
		if p.FirstByte.IsZero() {
			fmt.Fprintf(&b, ", no first byte after %s", ms(p.End.Sub(p.Wrote)))
		} else {
			fmt.Fprintf(&b, ", first byte in %s", ms(p.FirstByte.Sub(p.Wrote)))
		}
	}
	if !p.FirstByte.IsZero() {
		end := p.BodyDone
		if end.IsZero() {
			end = p.End
		}
		d := end.Sub(p.FirstByte)
		fmt.Fprintf(&b, ", body %s in %s", bytesText(float64(p.BodyBytes)), ms(d))
		if d > 0 {
			fmt.Fprintf(&b, " (%s/s)", bytesText(float64(p.BodyBytes)/d.Seconds()))
		}
	}
	if s := p.Stopped(); s != "" {
		fmt.Fprintf(&b, ", cut off at %s", strings.ReplaceAll(s, "_", " "))
	}
	return strings.TrimPrefix(b.String(), ", ")
}

func bytesText(n float64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

// Telling picks the request that tells most about a failed or slow call:
// the first that did not succeed, else the longest.
func Telling(rs []Phases) (Phases, bool) {
	if len(rs) == 0 {
		return Phases{}, false
	}
	best := rs[0]
	for _, p := range rs {
		if p.Outcome != "success" {
			return p, true
		}
		if p.End.Sub(p.Start) > best.End.Sub(best.Start) {
			best = p
		}
	}
	return best, true
}

// maxRecorded bounds the requests a Call keeps: a Danawa share reads up to
// 24 pages; beyond the bound only the count goes on.
const maxRecorded = 32

// Call records the HTTP requests one source's share of a request made, each
// when it ended. The fan-out puts one in the context of every task; a
// Client finds it there.
type Call struct {
	mu       sync.Mutex
	requests []Phases
	dropped  int
}

type callKey struct{}

// WithCall returns ctx carrying a new Call.
func WithCall(ctx context.Context) (context.Context, *Call) {
	c := &Call{}
	return context.WithValue(ctx, callKey{}, c), c
}

func callOf(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

func (c *Call) add(p Phases) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.requests) >= maxRecorded {
		c.dropped++
		return
	}
	c.requests = append(c.requests, p)
}

// Requests returns a copy of the requests recorded so far, in the order
// they ended, and how many more were made but not kept.
func (c *Call) Requests() (rs []Phases, dropped int) {
	if c == nil {
		return nil, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Phases(nil), c.requests...), c.dropped
}

// phaseTrace records p's phases from net/http's hooks, which may run on the
// transport's goroutines: every write is under mu.
type phaseTrace struct {
	mu sync.Mutex
	p  Phases
}

func (t *phaseTrace) at(f *time.Time) {
	now := time.Now()
	t.mu.Lock()
	if f.IsZero() {
		*f = now
	}
	t.mu.Unlock()
}

func (t *phaseTrace) hooks() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:     func(httptrace.DNSStartInfo) { t.at(&t.p.DNSStart) },
		DNSDone:      func(httptrace.DNSDoneInfo) { t.at(&t.p.DNSDone) },
		ConnectStart: func(string, string) { t.at(&t.p.ConnectStart) },
		// A connect or handshake that failed is not done: the summary
		// then says how long it tried.
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				t.at(&t.p.ConnectDone)
			}
		},
		TLSHandshakeStart: func() { t.at(&t.p.TLSStart) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err == nil {
				t.at(&t.p.TLSDone)
			}
		},
		GotConn: func(i httptrace.GotConnInfo) {
			t.at(&t.p.GotConn)
			t.mu.Lock()
			t.p.Reused = i.Reused
			t.mu.Unlock()
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { t.at(&t.p.Wrote) },
		GotFirstResponseByte: func() { t.at(&t.p.FirstByte) },
	}
}

// finish records the end of the request and hands the phases to call.
// body is nil when no answer arrived.
func (t *phaseTrace) finish(call *Call, status int, body *countingBody, err error) {
	now := time.Now()
	t.mu.Lock()
	p := t.p
	t.mu.Unlock()
	p.End, p.Status, p.Outcome = now, status, Outcome(err)
	if body != nil {
		p.BodyBytes, p.BodyDone = body.n, body.done
	}
	if err == nil && p.BodyDone.IsZero() {
		p.BodyDone = now // an answer judged on its status alone, or an empty body
	}
	call.add(p)
}

// countingBody counts the bytes read from an answer's body and notes when
// it ended.
type countingBody struct {
	io.ReadCloser
	n    int64
	done time.Time
}

func (b *countingBody) Read(p []byte) (int, error) {
	k, err := b.ReadCloser.Read(p)
	b.n += int64(k)
	if err == io.EOF && b.done.IsZero() {
		b.done = time.Now()
	}
	return k, err
}

// withPhases starts recording req's phases when its context carries a Call,
// returning the request to send and the trace to finish; without a Call the
// trace is nil and nothing is recorded.
func withPhases(req *http.Request) (*http.Request, *phaseTrace, *Call) {
	call := callOf(req.Context())
	if call == nil {
		return req, nil, nil
	}
	t := &phaseTrace{p: Phases{Path: req.URL.Path, Start: time.Now()}}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), t.hooks())), t, call
}
