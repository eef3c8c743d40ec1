package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

var errIPNotAllowed = &Error{Status: http.StatusForbidden, Code: "ip_not_allowed",
	Message: "this API key may not be used from this address"}

func errRateLimited(retryAfter int) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message: "too many requests for this API key; retry after the Retry-After header's seconds", RetryAfter: retryAfter}
}

func errTooManyFailedKeys(retryAfter int) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message: "too many unknown API keys from this address; retry after the Retry-After header's seconds", RetryAfter: retryAfter}
}

// PartnerObserver is told each keyed request's partner and status. Partners
// come from the keys file, so the label set is bounded.
type PartnerObserver interface {
	PartnerRequest(partner string, status int)
}

type partnerCtxKey struct{}

// partnerOf is the partner of the request's key, "" before withAccess.
func partnerOf(ctx context.Context) string {
	p, _ := ctx.Value(partnerCtxKey{}).(string)
	return p
}

// withAccess checks, in this order, the key (401), the client address
// against the key's allowlist (403) and the key's rate (429), so an unknown
// key never spends a partner's budget and a request is validated only once
// it is admitted. Every answer to a known key carries the RateLimit headers.
func withAccess(d Deps) middleware {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	limiter := d.Limiter
	if limiter == nil {
		limiter = NewLocalLimiter(now)
	}
	failures := newFailThrottle(now)
	po, _ := d.Metrics.(PartnerObserver)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			client := clientAddr(r, d.TrustedProxies)
			presented := r.Header.Get("x-api-key")
			if presented == "" {
				writeError(w, r, d.Log, errMissingKey)
				return
			}
			key := d.Keys.Lookup(presented)
			if key == nil {
				if blocked, retry := failures.blocked(client); blocked {
					writeError(w, r, d.Log, errTooManyFailedKeys(retry))
					return
				}
				failures.fail(client)
				writeError(w, r, d.Log, errInvalidKey)
				return
			}
			if po != nil {
				sw := &statusWriter{ResponseWriter: w, ctx: r.Context(), status: http.StatusOK}
				defer func() { po.PartnerRequest(key.Partner, sw.answered()) }()
				w = sw
			}
			r = r.WithContext(context.WithValue(r.Context(), partnerCtxKey{}, key.Partner))
			cost := 1
			if !key.allows(client) {
				cost = 0 // a refused address spends nothing, yet sees the budget
			}
			if key.Rate == (Rate{}) {
				if cost == 0 {
					writeError(w, r, d.Log, errIPNotAllowed)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			q, err := limiter.Take(r.Context(), key.ID, key.Rate, cost)
			if err != nil {
				// A limiter that cannot be read lets the request through:
				// partners are not refused for our fault.
				d.Log.WarnContext(r.Context(), "rate limiter unavailable; request admitted",
					"request_id", requestID(r.Context()), "partner", key.Partner, "err", err)
				q = Quota{Allowed: true, Limit: key.Rate.Burst, Remaining: key.Rate.Burst}
			}
			writeRateLimit(w.Header(), key.Rate, q)
			switch {
			case cost == 0:
				writeError(w, r, d.Log, errIPNotAllowed)
			case !q.Allowed:
				writeError(w, r, d.Log, errRateLimited(q.RetryAfter))
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// maxForwardedHops bounds how much of X-Forwarded-For is read.
const maxForwardedHops = 32

// clientAddr is the address a request comes from: the connection's peer,
// unless the peer is a trusted proxy, in which case it is the right-most
// X-Forwarded-For hop that is not a trusted proxy. The header is never read
// otherwise: anyone can send it. An unreadable hop yields the zero Addr,
// which no allowlist contains.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := peer.Addr().Unmap()
	if !inAny(trusted, addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i, n := len(hops)-1, 0; i >= 0 && n < maxForwardedHops; i, n = i-1, n+1 {
		h := strings.TrimSpace(hops[i])
		if h == "" && len(hops) == 1 {
			break // no header: the proxy itself is the client
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}
		}
		a = a.Unmap()
		if !inAny(trusted, a) {
			return a
		}
		addr = a
	}
	return addr
}

func inAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads a comma-separated list of addresses and CIDR ranges
// (the -trusted-proxies flag).
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		p, err := parsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// StatusClientClosed is recorded, in the access log and the metrics, for a
// request whose client hung up before the answer: it is not a server error.
const StatusClientClosed = 499

// answered is the status to record: 499 when the client went away before
// the answer began (a client that hangs up after reading its answer is
// not counted), else what the handler wrote.
func (w *statusWriter) answered() int {
	if w.gone || (!w.wrote && clientGone(w.ctx)) {
		return StatusClientClosed
	}
	return w.status
}

// clientGone reports whether ctx ended because the client hung up.
// Canceled, not DeadlineExceeded: a request that ran out of time is still
// ours to answer for.
func clientGone(ctx context.Context) bool {
	return ctx != nil && errors.Is(ctx.Err(), context.Canceled)
}
