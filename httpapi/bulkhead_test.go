package httpapi_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/service"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// TestHungSourceHoldsOnlyItsShare: with Encar hung (its calls held for the
// whole test, far longer than the test needs) and its bulkhead of 3 full,
// requests that need Encar are answered at once without it (503 or partial,
// reason timeout), and requests that need only other sources are all
// answered and never shed, though the instance takes only 8 requests at
// once. The breakers never trip here: the bulkhead alone keeps the rest of
// the instance free.
func TestHungSourceHoldsOnlyItsShare(t *testing.T) {
	overload := httpapi.NewOverload(8)
	st := newStack(t, neverTrips, func(c *service.Config) {
		st := c.Sources["encar"]
		st.Bulkhead = 3
		c.Sources["encar"] = st
		c.API.Overload = overload
	})
	require.NoError(t, st.sim.SetFault("encar", sim.Fault{Mode: sim.Hang}))

	var held sync.WaitGroup
	for range 3 {
		held.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, st.api.URL+"/v1/vehicles?source=encar&make=Kia", nil)
			req.Header.Set("x-api-key", demoKey)
			if resp, err := st.client.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	t.Cleanup(func() { st.sim.Close(); held.Wait() }) // the simulator's close releases them
	require.Eventually(t, func() bool { return st.svc.Fanout.InFlight(vehicle.Encar) == 3 },
		time.Minute, 10*time.Millisecond, "three Encar calls hang in its bulkhead")

	// 5 of the 8 slots are free; 5 clients at once use them all the time.
	// Were Encar's calls not bounded, its requests would take the slots and
	// hold them, and the later ones would be shed.
	each := func(n int, path func(i int) string) []answer {
		out := make([]answer, n)
		var wg sync.WaitGroup
		for w := range 5 {
			wg.Go(func() {
				for i := w; i < n; i += 5 {
					out[i] = st.get(t, path(i), demoKey)
				}
			})
		}
		wg.Wait()
		return out
	}
	// More requests for Encar than the instance takes at once: each is
	// refused by the bulkhead at once instead of waiting on Encar.
	for _, a := range each(15, func(int) string { return "/v1/vehicles?source=encar&make=Kia&limit=5" }) {
		require.Equal(t, http.StatusServiceUnavailable, a.status, "%v", a.body)
		e := a.body["error"].(map[string]any)
		assert.Equal(t, "dealer_upstream_unavailable", e["code"])
		assert.Equal(t, []any{map[string]any{"source": "encar", "reason": "timeout", "retry_after": 5.0}}, e["details"].(map[string]any)["sources"])
	}

	// Everything that does not need Encar is answered, none shed.
	others := []string{
		"/v1/vehicles?source=danawa&make=Kia&limit=5",
		"/v1/vehicles?source=glovis&make=Kia&limit=5",
	}
	for i, a := range each(20, func(i int) string { return others[i%2] }) {
		require.Equal(t, http.StatusOK, a.status, "%s: %v", others[i%2], a.body)
		assert.Empty(t, a.header.Get("X-LMN-Partial-Dealer-Unavailable"))
		assert.NotEmpty(t, rows(a), others[i%2])
	}
	mixed := st.get(t, "/v1/vehicles?make=Kia&limit=20", demoKey)
	require.Equal(t, http.StatusOK, mixed.status)
	assert.Equal(t, "encar", mixed.header.Get("X-LMN-Partial-Dealer-Unavailable"))
	assert.Equal(t, "encar;reason=timeout;retry_after=5", mixed.header.Get("X-LMN-Partial-Dealer-Detail"))
	assert.Zero(t, overload.Shed(), "no request was shed")
	assert.Equal(t, 3, st.svc.Fanout.InFlight(vehicle.Encar), "the hung calls are still held")
}
