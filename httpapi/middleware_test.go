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

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/vehicle"
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

// stateOf is an auction index whose status a test sets.
type stateOf struct {
	name vehicle.Source
	st   auction.Status
}

func (s *stateOf) Source() vehicle.Source { return s.name }
func (s *stateOf) Status() auction.Status { return s.st }

// TestReadyzWaitsForEveryAuctionIndex: not ready until every auction index
// has loaded or failed its first load (SPEC §5); each index is its own
// check in the verbose answer.
func TestReadyzWaitsForEveryAuctionIndex(t *testing.T) {
	first, second := &stateOf{name: "first"}, &stateOf{name: "second"}
	admin := NewAdmin(AdminDeps{Log: slog.New(slog.DiscardHandler), Auctions: []AuctionState{first, second}})
	get := func(path string) (int, map[string]any) {
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
		return rec.Code, m
	}
	code, _ := get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "not ready before the indexes have loaded")
	code, _ = get("/healthz")
	assert.Equal(t, http.StatusOK, code, "but alive")

	first.st = auction.Status{Loaded: true, Rows: 12, BuiltAt: time.Now()}
	code, _ = get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "one index still loading")

	second.st = auction.Status{Failures: 1, LastError: "upstream error: status 503", LastErrAt: time.Now()}
	code, m := get("/readyz?verbose")
	assert.Equal(t, http.StatusOK, code, "an index that failed its first load no longer holds readiness")
	checks := m["checks"].([]any)
	require.Len(t, checks, 2)
	for i, want := range []map[string]any{
		{"name": "auction_index", "source": "first", "ok": true, "rows": 12.0},
		{"name": "auction_index", "source": "second", "ok": false, "rows": 0.0, "last_crawl_error": "upstream error: status 503"},
	} {
		for k, v := range want {
			assert.Equal(t, v, checks[i].(map[string]any)[k], "check %d: %s", i, k)
		}
	}
	// Which build answers: a test binary is stamped with nothing, so the
	// fallback says so rather than inventing a version.
	assert.Equal(t, runtime.Version(), m["go_version"])
	assert.Equal(t, "unknown", m["revision"])
	assert.Equal(t, "unknown", m["version"])
}
