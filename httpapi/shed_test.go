package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/sources"
)

// TestOverloadSheds holds the bound's worth of requests inside a handler
// (blocked on a channel, so nothing depends on timing) and checks that the
// next one is answered 503 overloaded without reaching the handler, and that
// a freed slot admits a request again.
func TestOverloadSheds(t *testing.T) {
	const bound = 3
	o := NewOverload(bound)
	release := make(chan struct{})
	var entered sync.WaitGroup
	var calls atomic.Int32
	h := chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= bound {
			entered.Done()
			<-release
		}
		w.WriteHeader(http.StatusOK)
	}), withRequestID, withOverload(o))

	var done sync.WaitGroup
	codes := make([]int, bound)
	entered.Add(bound)
	for i := range bound {
		done.Go(func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/vehicles?make=Kia", nil))
			codes[i] = rec.Code
		})
	}
	entered.Wait()
	assert.Equal(t, bound, o.InFlight())

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/vehicles?make=Kia", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	var body struct {
		Error struct {
			Code      string         `json:"code"`
			RequestID string         `json:"request_id"`
			Details   map[string]any `json:"details"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "overloaded", body.Error.Code)
	assert.Equal(t, rec.Header().Get("X-Request-Id"), body.Error.RequestID)
	assert.NotNil(t, body.Error.Details)
	assert.Equal(t, int32(bound), calls.Load(), "a shed request never reaches the handler")
	assert.Equal(t, uint64(1), o.Shed())

	close(release)
	done.Wait()
	assert.Equal(t, []int{200, 200, 200}, codes)
	assert.Zero(t, o.InFlight(), "every slot is given back")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/vehicles?make=Kia", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
}

// TestOverloadSlotFreedAfterPanic: a handler that panics gives its slot
// back, or a few panics would shed every later request.
func TestOverloadSlotFreedAfterPanic(t *testing.T) {
	o := NewOverload(1)
	h := chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") }),
		withRequestID, withRecover(slog.New(slog.DiscardHandler)), withOverload(o))
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/vehicles", nil))
		assert.Equal(t, http.StatusInternalServerError, rec.Code)
	}
	assert.Zero(t, o.InFlight())
}

// TestReasonOfOverload: a source whose deadline passed while this instance
// was busy is reported as overloaded, not as the upstream's timeout.
func TestReasonOfOverload(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("danawa list: %w", context.DeadlineExceeded):                            "timeout",
		fmt.Errorf("danawa list: %w: %w", sources.ErrOverloaded, context.DeadlineExceeded): "overloaded",
		fmt.Errorf("danawa: %w", sources.ErrBulkheadFull):                                  "timeout",
		fmt.Errorf("%w: %w", sources.ErrOverloaded, sources.ErrBulkheadFull):               "overloaded",
	} {
		assert.Equal(t, want, reasonOf(fanout.Outcome{Err: err}), "%v", err)
	}
}

// TestStarvedIsNotUpstreamUnavailable: a dealer-only request whose every
// source missed its deadline because this instance was starved is 503
// overloaded, not dealer_upstream_unavailable; one upstream's own failure
// among them makes it the upstreams' again.
func TestStarvedIsNotUpstreamUnavailable(t *testing.T) {
	starved := &dealersDownError{failures: []sourceFailure{{"encar", "overloaded", 5}, {"danawa", "overloaded", 5}}}
	e := toError(starved)
	assert.Equal(t, http.StatusServiceUnavailable, e.Status)
	assert.Equal(t, "overloaded", e.Code)
	assert.Equal(t, 1, e.RetryAfter)
	mixed := &dealersDownError{failures: []sourceFailure{{"encar", "overloaded", 5}, {"danawa", "timeout", 5}}}
	assert.Equal(t, "dealer_upstream_unavailable", toError(mixed).Code)
}
