package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources/glovis"
)

// A replica that cannot use Redis says so on /readyz?verbose, the status
// page and /debug/breakers; it stays ready unless its check says Redis is
// required (ok false).
func TestFleetDegradationShown(t *testing.T) {
	store := &glovis.Store{}
	store.Swap(glovis.NewIndex(nil, time.Now()))
	required := false
	check := func() map[string]any {
		return map[string]any{"name": "redis", "ok": !required, "mode": "per_instance", "failure": "auth",
			"fleet_size": 3, "errors": map[string]uint64{"auth": 4, "timeout": 0}, "last_error": "WRONGPASS invalid username-password pair"}
	}
	admin := NewAdmin(AdminDeps{Log: slog.New(slog.DiscardHandler), Auctions: []AuctionState{&glovis.Auction{Crawler: &glovis.Crawler{Store: store}}}, Fleet: check})
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	code, body := get("/readyz?verbose")
	assert.Equal(t, http.StatusOK, code, "serving per instance is ready by default")
	var ready struct {
		Checks []map[string]any `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ready))
	require.Len(t, ready.Checks, 2)
	assert.Equal(t, "auth", ready.Checks[1]["failure"])

	code, page := get("/status")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, page, `id="fleet-degraded"`)
	assert.Contains(t, page, "<th>failure</th><td>auth</td>")
	assert.Contains(t, page, "auth 4, timeout 0")
	assert.Contains(t, page, "WRONGPASS")

	_, body = get("/debug/breakers")
	assert.Contains(t, body, `"failure":"auth"`)

	required = true
	code, _ = get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "-redis-required: not ready without Redis")
}
