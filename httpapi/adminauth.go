package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

var (
	errAdminToken = &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
		Message: "this admin route needs Authorization: Bearer <the -admin-token>"}
	errAdminContentType = &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
		Message: "a control request must be Content-Type: application/json, or a form posted from this listener's own pages"}
)

// Guessing the admin token: an address may present this many wrong tokens
// at once, then one more every adminGuessEvery; beyond that it is refused
// with 429 without its token being looked at (a right token too, or the
// answer would tell a guesser when it found it).
const (
	adminGuessBurst    = 5
	adminGuessEvery    = 2 * time.Second
	adminGuessMaxAddrs = 1 << 14
)

// sessionTTL is how long a status page login lasts: about a shift.
const sessionTTL = 8 * time.Hour

// maxSessions bounds the status page's sessions kept in memory.
const maxSessions = 1024

// adminGate holds the admin token and everything that guards it: the
// throttle of wrong guesses, and the status page's sessions. Every admin
// route that needs the token goes through one gate, so a guess counts the
// same whichever route it is tried on.
type adminGate struct {
	token  string
	want   [sha256.Size]byte
	log    *slog.Logger
	failed func(throttled bool)
	now    func() time.Time

	mu       sync.Mutex
	guesses  map[netip.Prefix]*rate.Limiter
	sessions map[string]time.Time // session id → expiry
}

func newAdminGate(d AdminDeps, now func() time.Time) *adminGate {
	g := &adminGate{token: d.Token, want: sha256.Sum256([]byte(d.Token)), log: d.Log, failed: d.AuthFailed, now: now,
		guesses: map[netip.Prefix]*rate.Limiter{}, sessions: map[string]time.Time{}}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.failed == nil {
		g.failed = func(bool) {}
	}
	return g
}

// check reports whether presented is the token, and answers r itself
// (429) when r's address has used up its wrong guesses. Hashes have equal
// length, so the comparison takes the same time whatever the guess.
func (g *adminGate) check(w http.ResponseWriter, r *http.Request, presented string) (ok, answered bool) {
	addr := peerAddr(r)
	t := g.now()
	g.mu.Lock()
	b := g.guesses[addrBucket(addr)]
	throttled := b != nil && b.TokensAt(t) < 1
	g.mu.Unlock()
	if throttled {
		g.failed(true)
		retry := max(1, ceilSeconds((1-b.TokensAt(t))*adminGuessEvery.Seconds()))
		writeError(w, r, nil, &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many wrong admin tokens from this address; retry after the Retry-After header's seconds", RetryAfter: retry})
		return false, true
	}
	h := sha256.Sum256([]byte(presented))
	if subtle.ConstantTimeCompare(h[:], g.want[:]) == 1 {
		return true, false
	}
	g.mu.Lock()
	k := addrBucket(addr)
	if g.guesses[k] == nil {
		if len(g.guesses) >= adminGuessMaxAddrs {
			clear(g.guesses) // bounded memory; forgetting costs one more burst per address
		}
		g.guesses[k] = rate.NewLimiter(rate.Every(adminGuessEvery), adminGuessBurst)
	}
	g.guesses[k].AllowN(t, 1)
	g.mu.Unlock()
	g.failed(false)
	// Logged, never the guess itself: it may be a mistyped real token.
	g.log.Warn("admin token refused", "remote_addr", r.RemoteAddr, "method", r.Method, "path", r.URL.Path,
		"request_id", requestID(r.Context()))
	return false, false
}

// peerAddr is the connection's peer: the admin listener believes no proxy.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// bearer requires Authorization: Bearer <token> on the routes it wraps
// when a token is set (serve refuses an admin listener off loopback
// without one). Any admin route that changes something or reveals the
// process's insides wraps itself in it.
func (g *adminGate) bearer(next http.Handler) http.Handler {
	if g.token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, presented := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if presented {
			ok, answered := g.check(w, r, got)
			if answered {
				return
			}
			if ok {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
		writeError(w, r, nil, errAdminToken)
	})
}

// openSession starts a status page session and returns its id: random, so
// a cookie says nothing about the token and cannot be made without it.
func (g *adminGate) openSession() (id string, expires time.Time) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	id = hex.EncodeToString(b[:])
	t := g.now()
	expires = t.Add(sessionTTL)
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.sessions) >= maxSessions {
		for k, exp := range g.sessions {
			if !t.Before(exp) {
				delete(g.sessions, k)
			}
		}
	}
	if len(g.sessions) >= maxSessions {
		// Still full of live sessions: the one closest to its end goes.
		oldest, at := "", time.Time{}
		for k, exp := range g.sessions {
			if oldest == "" || exp.Before(at) {
				oldest, at = k, exp
			}
		}
		delete(g.sessions, oldest)
	}
	g.sessions[id] = expires
	return id, expires
}

// session reports whether id is a session that has not expired.
func (g *adminGate) session(id string) bool {
	t := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	exp, ok := g.sessions[id]
	if ok && !t.Before(exp) {
		delete(g.sessions, id)
		return false
	}
	return ok
}

// withControlGuard refuses a control request a browser could be tricked
// into sending from another site (CSRF). A cross-site page can POST a form
// or text/plain without asking, but not application/json, so JSON passes. A
// form passes only when the browser says it comes from this listener's own
// pages (Sec-Fetch-Site: same-origin, or an Origin equal to this host), which
// is how a status page's own forms may still post.
func withControlGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case mt == "application/json":
		case (mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data") && sameOrigin(r):
		default:
			writeError(w, r, nil, errAdminContentType)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin reports whether the browser vouches that r comes from a page
// of this host.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
