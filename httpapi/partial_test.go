package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/sim"
)

// failure is one member of X-LMN-Partial-Dealer-Detail or of a 503's
// details.sources.
type failure struct {
	Source     string
	Reason     string
	RetryAfter int64
}

// parseDetail reads X-LMN-Partial-Dealer-Detail with a real RFC 8941
// parser: each member must be a token with exactly the parameters reason (a
// token) and retry_after (an integer).
func parseDetail(t *testing.T, h http.Header) []failure {
	t.Helper()
	values := h.Values("X-LMN-Partial-Dealer-Detail")
	require.NotEmpty(t, values, "no X-LMN-Partial-Dealer-Detail")
	list, err := httpsfv.UnmarshalList(values)
	require.NoError(t, err, "X-LMN-Partial-Dealer-Detail %q is not an RFC 8941 list", values)
	var out []failure
	for _, m := range list {
		item, ok := m.(httpsfv.Item)
		require.True(t, ok, "member %v is an inner list", m)
		src, ok := item.Value.(httpsfv.Token)
		require.True(t, ok, "member %v is not a token", item.Value)
		require.Equal(t, []string{"reason", "retry_after"}, item.Params.Names())
		reason, _ := item.Params.Get("reason")
		retry, _ := item.Params.Get("retry_after")
		require.IsType(t, httpsfv.Token(""), reason)
		require.IsType(t, int64(0), retry)
		out = append(out, failure{Source: string(src), Reason: string(reason.(httpsfv.Token)), RetryAfter: retry.(int64)})
	}
	return out
}

// sourcesOf reads a 503's details.sources.
func sourcesOf(t *testing.T, a answer) []failure {
	t.Helper()
	raw, ok := a.body["error"].(map[string]any)["details"].(map[string]any)["sources"].([]any)
	require.True(t, ok, "no details.sources in %v", a.body)
	var out []failure
	for _, r := range raw {
		m := r.(map[string]any)
		out = append(out, failure{Source: m["source"].(string), Reason: m["reason"].(string), RetryAfter: int64(m["retry_after"].(float64))})
	}
	return out
}

// TestPartialDetailReasons switches one dealer source into each failure
// mode and reads why it was left out. The reasons are SPEC §5's words for
// each mode, written here by hand; with breakers that never trip the wait is
// the documented 5 s backoff.
func TestPartialDetailReasons(t *testing.T) {
	st := newStack(t, neverTrips)
	reasons := map[string]string{
		sim.Down:      "upstream_error", // 503
		sim.Hang:      "timeout",
		sim.HTTP403:   "blocked",
		sim.Blocked:   "blocked", // captcha or login page with 200
		sim.Drift:     "drift",
		sim.Truncated: "upstream_error", // the connection dropped mid-answer: nothing was read
		sim.Huge:      "upstream_error",
	}
	for _, source := range []string{"encar", "danawa"} {
		for mode, reason := range reasons {
			t.Run(source+"/"+mode, func(t *testing.T) {
				st := st
				if mode == sim.Hang {
					// Only the hung source gets a short deadline, so the
					// test waits for it, not for the generous one.
					st = newStack(t, neverTrips, hung(source))
				}
				require.NoError(t, st.sim.SetFault(source, sim.Fault{Mode: mode}))
				defer st.sim.Reset()
				a := st.get(t, "/v1/vehicles?source=dealer&make=Kia&limit=5", demoKey)
				require.Equal(t, http.StatusOK, a.status)
				assert.Equal(t, []failure{{source, reason, 5}}, parseDetail(t, a.header))

				a = st.get(t, "/v1/vehicles?source="+source+"&make=Kia&limit=5", demoKey)
				require.Equal(t, http.StatusServiceUnavailable, a.status)
				assert.Equal(t, []failure{{source, reason, 5}}, sourcesOf(t, a))
				assert.Equal(t, "5", a.header.Get("Retry-After"))
				assert.Empty(t, a.header.Values("X-LMN-Partial-Dealer-Detail"), "a 503 says it in the body")
			})
		}
	}
}

func TestPartialDetailAbsentWhenAllAnswer(t *testing.T) {
	st := newStack(t, neverTrips)
	a := st.get(t, "/v1/vehicles?make=Kia&limit=5", demoKey)
	require.Equal(t, http.StatusOK, a.status)
	assert.Empty(t, a.header.Values("X-LMN-Partial-Dealer-Detail"))
}

// TestPartialDetailBreakerOpen: a forced-open source says breaker_open with
// the documented minute; a tripped one the seconds to its probe; a 503's
// Retry-After is the smallest wait.
func TestPartialDetailBreakerOpen(t *testing.T) {
	st := newStack(t, breaker.DefaultConfig)
	st.svc.Breakers[0].Force(breaker.ForcedOpen, "test") // encar
	a := st.get(t, "/v1/vehicles?source=dealer&make=Kia&limit=5", demoKey)
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, []failure{{"encar", "breaker_open", 60}}, parseDetail(t, a.header))

	require.NoError(t, st.sim.SetFault("danawa", sim.Fault{Mode: sim.Down}))
	tripped := time.Now()
	// The window holds Danawa's success above: three failures leave it
	// closed, each a short backoff ...
	for range 3 {
		a = st.get(t, "/v1/vehicles?source=dealer&make=Kia&limit=5", demoKey)
		require.Equal(t, http.StatusServiceUnavailable, a.status)
		assert.Equal(t, []failure{{"encar", "breaker_open", 60}, {"danawa", "upstream_error", 5}}, sourcesOf(t, a))
		assert.Equal(t, "5", a.header.Get("Retry-After"), "the smallest wait")
	}
	// ... the fourth makes 4 of 5 and trips it. From then on the wait is the
	// time left of its 30 s open period.
	a = st.get(t, "/v1/vehicles?source=dealer&make=Kia&limit=5", demoKey)
	require.Equal(t, []failure{{"encar", "breaker_open", 60}, {"danawa", "upstream_error", 30}}, sourcesOf(t, a))
	a = st.get(t, "/v1/vehicles?source=dealer&make=Kia&limit=5", demoKey)
	elapsed := time.Since(tripped)
	require.Equal(t, http.StatusServiceUnavailable, a.status)
	got := sourcesOf(t, a)
	require.Len(t, got, 2)
	assert.Equal(t, failure{"encar", "breaker_open", 60}, got[0])
	assert.Equal(t, "danawa", got[1].Source)
	assert.Equal(t, "breaker_open", got[1].Reason)
	assert.LessOrEqual(t, got[1].RetryAfter, int64(30))
	assert.GreaterOrEqual(t, got[1].RetryAfter, int64(30-elapsed.Seconds()), "at most the time since the trip is gone")
	assert.Equal(t, strconv.FormatInt(got[1].RetryAfter, 10), a.header.Get("Retry-After"))
}
