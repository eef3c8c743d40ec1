// Package sources holds what every upstream client shares: the failure kinds
// callers branch on, and an HTTP client with timeouts, connection limits and
// a cap on body size. The upstreams themselves live in the sub-packages.
package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"
)

// Failure kinds. Extractors and clients wrap these so callers can branch with
// errors.Is; each wrapping adds what was seen ("drift: missing SearchResults").
var (
	// ErrBlocked: 403, a bot-protection interstitial, HTML where JSON was
	// due, or a 404 on a list URL (geo-block).
	ErrBlocked = errors.New("blocked")
	// ErrLogin: the members-only site answered with its login page.
	ErrLogin = errors.New("login required")
	// ErrDrift: the page does not have the shape the extractor knows.
	ErrDrift = errors.New("drift")
	// ErrNotFound: the one thing asked for does not exist (or is not for sale).
	ErrNotFound = errors.New("not found")
	// ErrOversize: the body is larger than any sane answer.
	ErrOversize = errors.New("oversize body")
	// ErrUpstream: the upstream answered with a server error.
	ErrUpstream = errors.New("upstream error")
)

// Drift reports a page whose shape changed. What names the missing or
// unexpected part, e.g. "missing SearchResults".
func Drift(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDrift, fmt.Sprintf(format, args...))
}

// Outcome classifies the result of an upstream call into a short, bounded
// label for metrics and logs. It never returns raw error text.
func Outcome(err error) string {
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, ErrRejected):
		return "rejected"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrOverloaded):
		return "overloaded"
	case errors.Is(err, ErrBulkheadFull):
		return "bulkhead_full"
	case errors.Is(err, context.DeadlineExceeded), isNetTimeout(err):
		return "timeout"
	case errors.Is(err, ErrLogin):
		return "login"
	case errors.Is(err, ErrBlocked):
		return "blocked"
	case errors.Is(err, ErrDrift):
		return "drift"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrOversize):
		return "oversize"
	case errors.Is(err, ErrUpstream):
		return "http_5xx"
	case isNetError(err):
		return "connection"
	default:
		return "error"
	}
}

// isNetTimeout and isNetError keep the net.Error that errors.As needs off
// Outcome's path for a success, where it would escape to the heap: an
// allocation per call on the breaker's path.
func isNetTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

func isNetError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr)
}

// ErrRejected is returned without calling the upstream when its breaker is
// open (or forced open by an operator).
var ErrRejected = errors.New("breaker open")

// ErrOverloaded marks a call whose deadline passed while this service, not
// the upstream, was taking the time.
var ErrOverloaded = errors.New("service overloaded")

// ErrBulkheadFull: the call was not made because the source already had its
// bound of calls in flight, all of them waiting on the upstream.
var ErrBulkheadFull = errors.New("bulkhead full")

// ClientConfig tunes one upstream's HTTP client.
type ClientConfig struct {
	Timeout   time.Duration // whole-call backstop; the request context usually ends first
	MaxConns  int           // per host, in use at once
	MaxBody   int64         // bytes; a longer body is ErrOversize
	UserAgent string
	// Budget bounds the bytes of bodies being read by every client that
	// shares it; nil for no bound beyond MaxBody.
	Budget *BodyBudget
}

// Client is the HTTP client of one upstream.
type Client struct {
	http      *http.Client
	maxBody   int64
	userAgent string
	budget    *BodyBudget
}

// NewClient builds a client with its own connection pool, so that one slow
// upstream cannot exhaust the connections of another.
func NewClient(cfg ClientConfig) *Client {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 64
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          cfg.MaxConns,
		MaxIdleConnsPerHost:   cfg.MaxConns, // the default of 2 would churn connections under load
		MaxConnsPerHost:       cfg.MaxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   3 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &Client{
		http:      &http.Client{Transport: tracedTransport{tr}, Timeout: cfg.Timeout, CheckRedirect: sameOrigin},
		maxBody:   cfg.MaxBody,
		userAgent: cfg.UserAgent,
		budget:    cfg.Budget,
	}
}

// CloseIdleConnections closes the pooled connections not in use; calls in
// flight keep theirs.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// sameOrigin follows a redirect only to the scheme, host and port the call
// started at: anywhere else could be handed the session cookie and the
// partners' filters, and is not the upstream we know how to read.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("%w: more than 5 redirects", ErrBlocked)
	}
	from := via[0].URL
	if req.URL.Scheme != from.Scheme || req.URL.Hostname() != from.Hostname() || port(req.URL) != port(from) {
		return fmt.Errorf("%w: redirect to another host or port", ErrBlocked)
	}
	return nil
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// Response is an upstream answer read in full.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
	buf         *[]byte // the pooled buffer Body is in, until Release
}

// Release hands the body's buffer back for a later read, after which Body is
// nil. Call it once nothing taken from Body points into it; a response never
// released is collected as usual.
func (r *Response) Release() {
	if r.buf != nil {
		putBody(r.buf)
		r.buf, r.Body = nil, nil
	}
}

// Do sends req and reads the body up to the size cap, into a pooled buffer
// the caller hands back with Response.Release. 403 and 429 are
// ErrBlocked and 5xx is ErrUpstream; other statuses are returned for the
// caller to judge (a 404 means different things on a list and a detail).
func (c *Client) Do(req *http.Request) (_ *Response, err error) {
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	req, trace, call := withPhases(req)
	var (
		status  int
		counted *countingBody
	)
	if trace != nil {
		defer func() { trace.finish(call, status, counted, err) }()
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The client's error quotes the whole URL: the partner's filters in
		// the query and the upstream's address. Errors reach logs and the
		// admin API, so they name the path only.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("%s %s: %w", ue.Op, req.URL.Path, ue.Err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	if trace != nil {
		counted = &countingBody{ReadCloser: resp.Body}
		resp.Body = counted
	}
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("%w: status %d", ErrBlocked, resp.StatusCode)
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: status %d", ErrUpstream, resp.StatusCode)
	}
	if resp.ContentLength > c.maxBody {
		return nil, fmt.Errorf("%w: content-length %d over %d", ErrOversize, resp.ContentLength, c.maxBody)
	}
	buf, err := c.budget.read(resp, c.maxBody)
	if err != nil {
		return nil, err
	}
	// Body's capacity ends with it: an append to it cannot write into the
	// pooled buffer behind the caller's back.
	body := (*buf)[:len(*buf):len(*buf)]
	return &Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body, buf: buf}, nil
}

// BodyBudget bounds the bytes held by upstream bodies being read, across
// every request and client that share it. Each upstream call is capped by
// its MaxBody, but under many concurrent requests to an upstream that sends
// huge bodies the caps add up to gigabytes; beyond the budget a read fails
// at once as ErrOversize instead of waiting or growing.
type BodyBudget struct {
	sem   *semaphore.Weighted
	total int64
}

// NewBodyBudget returns a budget of n bytes.
func NewBodyBudget(n int64) *BodyBudget {
	return &BodyBudget{sem: semaphore.NewWeighted(n), total: n}
}

// readChunk is how much a body grows by at least, and what it starts with
// when the length is not announced.
const readChunk = 32 << 10

// read reads resp's body up to limit bytes into a pooled buffer, holding
// budget for the buffer until it returns: the caller parses the body at once
// and releases it, so the bytes held past this call are bounded by the calls
// in flight. A buffer counts at its capacity, which its size class rounds up
// to at most twice the body.
func (b *BodyBudget) read(resp *http.Response, limit int64) (*[]byte, error) {
	if resp.ContentLength == 0 {
		empty := []byte{}
		return &empty, nil
	}
	oversize := func() error { return fmt.Errorf("%w: over %d bytes", ErrOversize, limit) }
	if resp.ContentLength > limit {
		return nil, oversize()
	}
	held := int64(0)
	if b != nil {
		defer func() { b.sem.Release(held) }()
	}
	// take returns a buffer for n bytes holding what old holds, which goes
	// back to the pool.
	take := func(old *[]byte, n int64) (*[]byte, error) {
		c := int64(bodyCap(int(n)))
		if b != nil {
			if !b.sem.TryAcquire(c - held) {
				return nil, fmt.Errorf("%w: the upstream body budget of %d bytes is in use", ErrOversize, b.total)
			}
			held = c
		}
		p := getBody(int(n))
		if old != nil {
			*p = append(*p, *old...)
			putBody(old)
		}
		return p, nil
	}
	n := min(int64(readChunk), limit)
	if resp.ContentLength > 0 {
		n = resp.ContentLength
	}
	p, err := take(nil, n)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*[]byte, error) {
		putBody(p)
		return nil, err
	}
	for {
		buf := *p
		if len(buf) < cap(buf) {
			k, err := resp.Body.Read(buf[len(buf):cap(buf)])
			*p = buf[:len(buf)+k]
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fail(fmt.Errorf("reading body: %w", err))
			}
			continue
		}
		// Full: read one byte to see whether the body goes on before
		// growing for it (a body of the announced length ends here).
		var one [1]byte
		k, err := resp.Body.Read(one[:])
		if k == 0 {
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fail(fmt.Errorf("reading body: %w", err))
			}
			continue
		}
		if int64(len(buf)) >= limit {
			return fail(oversize())
		}
		by := min(max(int64(cap(buf)), readChunk), limit-int64(len(buf)))
		q, terr := take(p, int64(len(buf))+by)
		if terr != nil {
			return fail(terr)
		}
		p = q
		*p = append(*p, one[0])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("reading body: %w", err))
		}
	}
	if int64(len(*p)) > limit {
		return fail(oversize())
	}
	return p, nil
}

var numberRe = regexp.MustCompile(`[0-9][0-9,]*`)

// Number reads the first number in page text such as " 31,687 km ",
// "총 1,184대" or "2,497cc". It reports false when the text has none.
func Number(s string) (int, bool) {
	m := numberRe.FindString(s)
	if m == "" {
		return 0, false
	}
	n, err := strconv.Atoi(strings.ReplaceAll(m, ",", ""))
	return n, err == nil
}
