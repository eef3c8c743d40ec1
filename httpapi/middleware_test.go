package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources/glovis"
)

func TestPanicIsA500WithTheRequestID(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("nil map in handler") }),
		withRequestID, withRecover(log))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/vehicles?make=Kia", nil))

	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	var raw map[string]map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
	id := rec.Header().Get("X-Request-Id")
	assert.Regexp(t, regexp.MustCompile(`^req_[0-9a-f]{24}$`), id)
	assert.Equal(t, "internal_error", raw["error"]["code"])
	assert.Equal(t, "internal error", raw["error"]["message"], "the body says nothing more")
	assert.Equal(t, id, raw["error"]["request_id"])
	assert.NotContains(t, rec.Body.String(), "nil map", "no panic text to the partner")
	assert.Contains(t, logs.String(), id, "logged with the request id")
	assert.Contains(t, logs.String(), "nil map in handler")
}

func TestReadyzWaitsForTheAuctionIndex(t *testing.T) {
	store := &glovis.Store{}
	admin := NewAdmin(AdminDeps{Log: slog.New(slog.DiscardHandler), Auction: store})
	get := func(path string) (int, map[string]any) {
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
		return rec.Code, m
	}
	code, _ := get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "not ready before the index has loaded")
	code, _ = get("/healthz")
	assert.Equal(t, http.StatusOK, code, "but alive")

	store.Swap(glovis.NewIndex(nil, time.Now()))
	code, m := get("/readyz?verbose")
	assert.Equal(t, http.StatusOK, code)
	checks := m["checks"].([]any)
	require.Len(t, checks, 1)
	assert.Equal(t, "auction_index", checks[0].(map[string]any)["name"])
	// Which build answers: a test binary is stamped with nothing, so the
	// fallback says so rather than inventing a version.
	assert.Equal(t, runtime.Version(), m["go_version"])
	assert.Equal(t, "unknown", m["revision"])
	assert.Equal(t, "unknown", m["version"])
}
