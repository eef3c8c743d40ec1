package httpapi_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/service"
)

const adminToken = "admin-token-0123456789abcdef"

func adminCall(t *testing.T, st *stack, method, path, token, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, st.admin.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := st.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

func TestAdminToken(t *testing.T) {
	st := newStack(t, neverTrips, func(c *service.Config) { c.Admin.Token = adminToken })
	const force = `{"action": "force_open", "reason": "test"}`
	status, body := adminCall(t, st, http.MethodPost, "/debug/breakers/encar", "", "application/json", force, nil)
	assert.Equal(t, http.StatusUnauthorized, status, body)
	assert.Contains(t, body, `"code":"unauthorized"`)
	status, _ = adminCall(t, st, http.MethodPost, "/debug/breakers/encar", "wrong-token-0123456789abcdef", "application/json", force, nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "closed", st.svc.Breakers[0].State(), "a refused control changed nothing")
	status, body = adminCall(t, st, http.MethodPost, "/debug/breakers/encar", adminToken, "application/json", force, nil)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "forced_open", st.svc.Breakers[0].State())

	for _, path := range []string{"/debug/pprof/", "/debug/pprof/symbol", "/sim"} {
		status, _ = adminCall(t, st, http.MethodGet, path, "", "", "", nil)
		assert.Equal(t, http.StatusUnauthorized, status, path)
	}
	status, _ = adminCall(t, st, http.MethodGet, "/debug/pprof/", adminToken, "", "", nil)
	assert.Equal(t, http.StatusOK, status)
	// Reading stays open: health checks and on-call dashboards need no token.
	for _, path := range []string{"/healthz", "/readyz", "/debug/breakers", "/debug/breakers/encar"} {
		status, _ = adminCall(t, st, http.MethodGet, path, "", "", "", nil)
		assert.Equal(t, http.StatusOK, status, path)
	}
}

// TestAdminControlNeedsJSON: a page on another site can make a browser POST
// a form or text/plain without asking, never application/json.
func TestAdminControlNeedsJSON(t *testing.T) {
	st := newStack(t, neverTrips)
	const force = `{"action": "force_open", "reason": "csrf"}`
	for _, tc := range []struct {
		name, contentType string
		header            map[string]string
		want              int
	}{
		{"text/plain", "text/plain", nil, http.StatusUnsupportedMediaType},
		{"none", "", nil, http.StatusUnsupportedMediaType},
		{"cross-site form", "application/x-www-form-urlencoded", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusUnsupportedMediaType},
		{"form with a foreign origin", "application/x-www-form-urlencoded", map[string]string{"Origin": "http://evil.example"}, http.StatusUnsupportedMediaType},
		{"form without an origin", "application/x-www-form-urlencoded", nil, http.StatusUnsupportedMediaType},
		// A same-origin form passes the guard; this route then wants JSON.
		{"same-origin form", "application/x-www-form-urlencoded", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusBadRequest},
		{"same-origin form by Origin", "application/x-www-form-urlencoded", map[string]string{"Origin": st.admin.URL}, http.StatusBadRequest},
		{"json", "application/json; charset=utf-8", nil, http.StatusOK},
	} {
		body := force
		if strings.HasPrefix(tc.contentType, "application/x-www-form") {
			body = "action=force_open&reason=csrf"
		}
		status, body := adminCall(t, st, http.MethodPost, "/debug/breakers/encar", "", tc.contentType, body, tc.header)
		assert.Equal(t, tc.want, status, "%s: %s", tc.name, body)
		if tc.want != http.StatusOK {
			assert.Equal(t, "closed", st.svc.Breakers[0].State(), tc.name)
		}
	}
}

func TestPprofCmdlineNotServed(t *testing.T) {
	st := newStack(t, neverTrips)
	status, body := adminCall(t, st, http.MethodGet, "/debug/pprof/cmdline", "", "", "", nil)
	assert.Equal(t, http.StatusNotFound, status)
	for _, arg := range os.Args {
		assert.NotContains(t, body, arg, "the process's command line")
	}
	status, _ = adminCall(t, st, http.MethodGet, "/debug/pprof/", "", "", "", nil)
	assert.Equal(t, http.StatusOK, status, "pprof itself is served on the admin listener")
	resp, err := st.client.Get(st.api.URL + "/debug/pprof/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "never on the public listener")
}

func TestMetricsApartAndDraining(t *testing.T) {
	var draining atomic.Bool
	st := newStack(t, neverTrips, func(c *service.Config) {
		c.Admin.MetricsApart, c.Admin.Draining = true, draining.Load
		c.Admin.Metrics = http.NotFoundHandler()
	})
	status, _ := adminCall(t, st, http.MethodGet, "/metrics", "", "", "", nil)
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = adminCall(t, st, http.MethodGet, "/readyz", "", "", "", nil)
	assert.Equal(t, http.StatusOK, status)
	draining.Store(true)
	status, body := adminCall(t, st, http.MethodGet, "/readyz", "", "", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body, "draining")
}
