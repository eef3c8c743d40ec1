package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aggregator breakers shows each replica's use of Redis after its breakers:
// one replica per instance because Redis refuses its password is the row an
// operator must not miss.
func TestBreakersShowTheFleet(t *testing.T) {
	replica := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	a := replica(`{"breakers": [], "fleet": {"name": "redis", "ok": true, "mode": "shared", "since": "2026-12-07T03:00:00Z",
		"fleet_size": 2, "crawling": true, "auction_version": 7, "errors": {"timeout": 0}}}`)
	b := replica(`{"breakers": [], "fleet": {"name": "redis", "ok": true, "mode": "per_instance", "failure": "auth",
		"since": "2026-12-07T03:01:00Z", "fleet_size": 2, "auction_version": 7, "errors": {"auth": 12, "timeout": 0},
		"last_error": "WRONGPASS invalid username-password pair or user is disabled."}}`)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"breakers", "-admin", a + "," + b}, noenv, &out, &out))
	assert.Regexp(t, `REPLICA +REDIS +FAILURE +SINCE +FLEET SIZE +CRAWLING +AUCTION VERSION +REDIS ERRORS +LAST ERROR`, out.String())
	assert.Regexp(t, `127\.0\.0\.1:\d+ +shared +- +2026-12-07T03:00:00Z +2 +true +7 +0 +-`, out.String())
	assert.Regexp(t, `127\.0\.0\.1:\d+ +per_instance +auth +2026-12-07T03:01:00Z +2 +false +7 +auth=12 +WRONGPASS`, out.String())

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"breakers", "-admin", b}, noenv, &out, &out))
	assert.Regexp(t, `per_instance +auth`, out.String(), "one replica's view shows it too")
}
