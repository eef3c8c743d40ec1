package httpapi_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/service"
)

// fakeClock is the rate limiter's clock; tests move it by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	acmeKey  = "lmn_stg_acme0000000000000001"
	betaKey  = "lmn_stg_beta0000000000000002"
	otherEnv = "lmn_live_acme0000000000000001"
	// glovisPath is answered from the auction index: no upstream is called.
	glovisPath = "/v1/vehicles?source=glovis&make=Kia&limit=1"
)

type accessServer struct {
	url   string
	clock *fakeClock
}

// newAccessServer serves the API, wired as serve wires it, with the keys of
// the JSON keys file text and the rate limits on a clock the test moves.
func newAccessServer(t *testing.T, keysFile string, trusted ...string) *accessServer {
	t.Helper()
	keys := httpapi.NewKeys("stg")
	require.NoError(t, keys.AddFrom(strings.NewReader(keysFile)))
	var proxies []netip.Prefix
	for _, p := range trusted {
		proxies = append(proxies, netip.MustParsePrefix(p))
	}
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newStack(t, neverTrips, func(c *service.Config) {
		c.API.Keys, c.API.TrustedProxies, c.API.Now = keys, proxies, clock.now
	})
	return &accessServer{url: st.api.URL, clock: clock}
}

// clientFrom returns a client whose connections leave from the loopback
// address from, so the server sees a different peer.
func clientFrom(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// call sends one request and checks the answer against openapi.json.
func call(t *testing.T, c *http.Client, url, key string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header}
	require.NoError(t, json.Unmarshal(raw, &a.body), "%s", raw)
	checkOpenAPI(t, req, resp, raw)
	return a
}

func code(a answer) string {
	e, _ := a.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestRateLimitBurstThenRetryAfterThenRecovers(t *testing.T) {
	srv := newAccessServer(t, `{"keys": [
		{"partner": "acme", "key": "`+acmeKey+`", "rate": {"per_second": 5, "burst": 5}},
		{"partner": "beta", "key": "`+betaKey+`", "rate": {"per_second": 0.5, "burst": 2}}]}`)
	c := clientFrom("127.0.0.1")
	burst := func() {
		t.Helper()
		for i := range 5 {
			a := call(t, c, srv.url+glovisPath, acmeKey, nil)
			require.Equal(t, http.StatusOK, a.status, "request %d of the burst", i+1)
			assert.Equal(t, "5", a.header.Get("RateLimit-Limit"))
			assert.Equal(t, []string{"4", "3", "2", "1", "0"}[i], a.header.Get("RateLimit-Remaining"), "request %d", i+1)
		}
		a := call(t, c, srv.url+glovisPath, acmeKey, nil)
		require.Equal(t, http.StatusTooManyRequests, a.status)
		assert.Equal(t, "rate_limited", code(a))
		// Empty bucket at 5/s: the next token is 0.2 s away, rounded up.
		assert.Equal(t, "1", a.header.Get("Retry-After"))
		assert.Equal(t, "0", a.header.Get("RateLimit-Remaining"))
		assert.Equal(t, "1", a.header.Get("RateLimit-Reset"), "5 tokens at 5/s refill in 1 s")
	}
	burst()
	// A 429 spent nothing; an unknown key spends no partner's budget either.
	call(t, c, srv.url+glovisPath, "lmn_stg_nobody00000000000000", nil)
	srv.clock.advance(time.Second)
	burst()
	// The order of checks: an exhausted key with a bad query is 429, not 400.
	assert.Equal(t, "rate_limited", code(call(t, c, srv.url+"/v1/vehicles?limit=ten", acmeKey, nil)))

	// 0.5/s with a burst of 2: after the burst the next token is 2 s away.
	for range 2 {
		require.Equal(t, http.StatusOK, call(t, c, srv.url+glovisPath, betaKey, nil).status)
	}
	a := call(t, c, srv.url+glovisPath, betaKey, nil)
	require.Equal(t, http.StatusTooManyRequests, a.status)
	assert.Equal(t, "2", a.header.Get("Retry-After"))
	assert.Equal(t, "4", a.header.Get("RateLimit-Reset"))
	srv.clock.advance(time.Second)
	a = call(t, c, srv.url+glovisPath, betaKey, nil)
	assert.Equal(t, "1", a.header.Get("Retry-After"), "half a token is there after 1 s")
	srv.clock.advance(time.Second)
	assert.Equal(t, http.StatusOK, call(t, c, srv.url+glovisPath, betaKey, nil).status)

}

func TestAllowlist(t *testing.T) {
	srv := newAccessServer(t, `{"keys": [
		{"partner": "acme", "key": "`+acmeKey+`", "allow": ["127.0.0.1", "2001:db8::/32"], "rate": {"per_second": 100, "burst": 100}},
		{"partner": "beta", "key": "`+betaKey+`", "allow": ["203.0.113.0/24"], "rate": {"per_second": 100, "burst": 100}}]}`)
	from1, from2 := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")

	assert.Equal(t, http.StatusOK, call(t, from1, srv.url+glovisPath, acmeKey, nil).status)
	a := call(t, from2, srv.url+glovisPath, acmeKey, nil)
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, "ip_not_allowed", code(a))
	assert.Equal(t, "100", a.header.Get("RateLimit-Limit"), "a known key's answers carry the RateLimit headers")
	assert.Equal(t, "99", a.header.Get("RateLimit-Remaining"), "a refused address spent nothing")
	// Allowlist before validation.
	assert.Equal(t, "ip_not_allowed", code(call(t, from2, srv.url+"/v1/vehicles?limit=ten", acmeKey, nil)))
	// Unknown keys are 401 from anywhere; the allowlist is the key's.
	assert.Equal(t, "invalid_api_key", code(call(t, from2, srv.url+glovisPath, otherEnv, nil)))

	// A forged X-Forwarded-For from a peer that is not a trusted proxy is
	// ignored: the peer 127.0.0.1 is the client, outside beta's range.
	a = call(t, from1, srv.url+glovisPath, betaKey, map[string]string{"X-Forwarded-For": "203.0.113.9"})
	assert.Equal(t, "ip_not_allowed", code(a))
}

func TestAllowlistBehindTrustedProxy(t *testing.T) {
	srv := newAccessServer(t, `{"keys": [
		{"partner": "beta", "key": "`+betaKey+`", "allow": ["203.0.113.0/24"], "rate": {"per_second": 100, "burst": 100}}]}`,
		"127.0.0.0/8", "10.0.0.0/8")
	c := clientFrom("127.0.0.1")
	for _, tc := range []struct {
		xff  string
		want int
	}{
		{"203.0.113.9", http.StatusOK},
		{"203.0.113.9, 10.1.2.3", http.StatusOK},            // a second trusted proxy is skipped
		{"198.51.100.1, 203.0.113.9", http.StatusOK},        // the left part is the client's to forge
		{"203.0.113.9, 198.51.100.1", http.StatusForbidden}, // the right-most untrusted hop is the client
		{"", http.StatusForbidden},                          // the proxy itself, 127.0.0.1
		{"not-an-address", http.StatusForbidden},
	} {
		h := map[string]string{}
		if tc.xff != "" {
			h["X-Forwarded-For"] = tc.xff
		}
		assert.Equal(t, tc.want, call(t, c, srv.url+glovisPath, betaKey, h).status, "X-Forwarded-For: %q", tc.xff)
	}
}

func TestFailedKeysThrottledPerAddress(t *testing.T) {
	srv := newAccessServer(t, `{"keys": [{"partner": "acme", "key": "`+acmeKey+`"}]}`)
	from1, from2 := clientFrom("127.0.0.1"), clientFrom("127.0.0.3")
	for i := range 10 {
		assert.Equal(t, "invalid_api_key", code(call(t, from1, srv.url+glovisPath, "lmn_stg_guess00000000000000"+string(rune('a'+i)), nil)))
	}
	a := call(t, from1, srv.url+glovisPath, "lmn_stg_guess00000000000000z", nil)
	assert.Equal(t, "rate_limited", code(a), "the 11th unknown key from one address")
	assert.Equal(t, "6", a.header.Get("Retry-After"), "one more attempt every 6 s")
	assert.Equal(t, http.StatusOK, call(t, from1, srv.url+glovisPath, acmeKey, nil).status, "a known key still works")
	assert.Equal(t, "invalid_api_key", code(call(t, from2, srv.url+glovisPath, "lmn_stg_guess00000000000000z", nil)), "another address")
	srv.clock.advance(6 * time.Second)
	assert.Equal(t, "invalid_api_key", code(call(t, from1, srv.url+glovisPath, "lmn_stg_guess00000000000000z", nil)))
}

func TestCursorBoundToPartner(t *testing.T) {
	srv := newAccessServer(t, `{"keys": [{"partner": "acme", "key": "`+acmeKey+`"}, {"partner": "beta", "key": "`+betaKey+`"}]}`)
	c := clientFrom("127.0.0.1")
	a := call(t, c, srv.url+"/v1/vehicles?source=glovis&make=Kia&limit=2", acmeKey, nil)
	require.Equal(t, http.StatusOK, a.status)
	next, _ := a.body["next_cursor"].(string)
	require.NotEmpty(t, next)
	path := "/v1/vehicles?source=glovis&make=Kia&limit=2&cursor=" + next
	assert.Equal(t, http.StatusOK, call(t, c, srv.url+path, acmeKey, nil).status)
	for _, path := range []string{path, "/v1/vehicles?source=glovis&make=Hyundai&sort=price_desc&limit=2&cursor=" + next} {
		a := call(t, c, srv.url+path, betaKey, nil)
		assert.Equal(t, "invalid_cursor", code(a))
		details, _ := a.body["error"].(map[string]any)["details"].(map[string]any)
		assert.Equal(t, "partner_mismatch", details["reason"], "another partner's cursor says so, whatever else differs")
	}
}
