package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/dunglas/httpsfv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rateLimitField reads a RateLimit or RateLimit-Policy field with a real
// RFC 8941 parser, as a partner's client would: a list of one item, the
// policy name (a string), with integer parameters, returned by name.
func rateLimitField(t *testing.T, h http.Header, name string, params ...string) map[string]int64 {
	t.Helper()
	values := h.Values(name)
	require.NotEmpty(t, values, "no %s", name)
	list, err := httpsfv.UnmarshalList(values)
	require.NoError(t, err, "%s %q is not an RFC 8941 list", name, values)
	require.Len(t, list, 1, "%s: one policy", name)
	item, ok := list[0].(httpsfv.Item)
	require.True(t, ok, "%s: an item, not an inner list", name)
	assert.Equal(t, "key", item.Value, "%s: the policy is named by a string", name)
	require.Equal(t, params, item.Params.Names(), name)
	out := map[string]int64{}
	for _, p := range params {
		v, _ := item.Params.Get(p)
		require.IsType(t, int64(0), v, "%s;%s", name, p)
		out[p] = v.(int64)
	}
	return out
}

// TestRateLimitFieldsOfTheCurrentDraft: every answer to a known key carries
// RateLimit-Policy and RateLimit as the current draft writes them, beside
// the 2022 draft's three, all saying the same budget.
func TestRateLimitFieldsOfTheCurrentDraft(t *testing.T) {
	srv := newAccessServer(t, `{"keys": [
		{"partner": "acme", "key": "`+acmeKey+`", "rate": {"per_second": 5, "burst": 5}},
		{"partner": "beta", "key": "`+betaKey+`", "rate": {"per_second": 0.5, "burst": 2}}]}`)
	c := clientFrom("127.0.0.1")

	a := call(t, c, srv.url+glovisPath, acmeKey, nil)
	require.Equal(t, http.StatusOK, a.status)
	// 5 a second with a burst of 5: 5 requests in a window of 1 s.
	assert.Equal(t, map[string]int64{"q": 5, "w": 1}, rateLimitField(t, a.header, "RateLimit-Policy", "q", "w"))
	// One spent: 4 left, whole again in 0.2 s, rounded up to 1.
	assert.Equal(t, map[string]int64{"r": 4, "t": 1}, rateLimitField(t, a.header, "RateLimit", "r", "t"))
	assert.Equal(t, []string{"5", "4", "1"}, []string{a.header.Get("RateLimit-Limit"), a.header.Get("RateLimit-Remaining"), a.header.Get("RateLimit-Reset")})

	for range 2 {
		a = call(t, c, srv.url+glovisPath, betaKey, nil)
	}
	a = call(t, c, srv.url+glovisPath, betaKey, nil)
	require.Equal(t, http.StatusTooManyRequests, a.status)
	// 0.5 a second with a burst of 2: 2 requests in 4 s; empty, whole in 4 s.
	assert.Equal(t, map[string]int64{"q": 2, "w": 4}, rateLimitField(t, a.header, "RateLimit-Policy", "q", "w"))
	assert.Equal(t, map[string]int64{"r": 0, "t": 4}, rateLimitField(t, a.header, "RateLimit", "r", "t"))
	assert.Equal(t, "2", a.header.Get("Retry-After"))
}
