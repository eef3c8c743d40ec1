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
	"regexp"
	"strconv"
	"strings"
	"time"
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
	var netErr net.Error
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, ErrRejected):
		return "rejected"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
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
	case errors.As(err, &netErr):
		return "connection"
	default:
		return "error"
	}
}

// ErrRejected is returned without calling the upstream when its breaker is
// open (or forced open by an operator).
var ErrRejected = errors.New("breaker open")

// ClientConfig tunes one upstream's HTTP client.
type ClientConfig struct {
	Timeout   time.Duration // whole-call backstop; the request context usually ends first
	MaxConns  int           // per host, in use at once
	MaxBody   int64         // bytes; a longer body is ErrOversize
	UserAgent string
}

// Client is the HTTP client of one upstream.
type Client struct {
	http      *http.Client
	maxBody   int64
	userAgent string
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
		http:      &http.Client{Transport: tr, Timeout: cfg.Timeout},
		maxBody:   cfg.MaxBody,
		userAgent: cfg.UserAgent,
	}
}

// Response is an upstream answer read in full.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Do sends req and reads the body up to the size cap. 403 and 429 are
// ErrBlocked and 5xx is ErrUpstream; other statuses are returned for the
// caller to judge (a 404 means different things on a list and a detail).
func (c *Client) Do(req *http.Request) (*Response, error) {
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("%w: status %d", ErrBlocked, resp.StatusCode)
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: status %d", ErrUpstream, resp.StatusCode)
	}
	if resp.ContentLength > c.maxBody {
		return nil, fmt.Errorf("%w: content-length %d over %d", ErrOversize, resp.ContentLength, c.maxBody)
	}
	body, err := readCapped(resp, c.maxBody)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}, nil
}

func readCapped(resp *http.Response, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrOversize, limit)
	}
	return body, nil
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
