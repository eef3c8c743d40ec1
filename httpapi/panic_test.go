package httpapi_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/metrics"
	"github.com/lmn/aggregator/service"
)

// TestPanicInASourceTaskFailsThatSourceOnly: a source's task that panics (a
// nil client here, a bug's stand-in) is that source's failure, answered as
// one and counted; the process goes on serving every other request.
func TestPanicInASourceTaskFailsThatSourceOnly(t *testing.T) {
	m := metrics.New()
	st := newStackAltered(t, neverTrips, func(svc *service.Service) { svc.Search.Encar = nil },
		func(c *service.Config) { c.Metrics = m })

	a := st.get(t, "/v1/vehicles/encar_39000000", demoKey)
	require.Equal(t, http.StatusServiceUnavailable, a.status, "%v", a.body)
	e := a.body["error"].(map[string]any)
	assert.Equal(t, "dealer_upstream_unavailable", e["code"])
	assert.Equal(t, []any{"encar"}, e["details"].(map[string]any)["failed_sources"])

	a = st.get(t, "/v1/vehicles?source=danawa&make=Kia&limit=5", demoKey)
	assert.Equal(t, http.StatusOK, a.status, "still serving")
	assert.Len(t, rows(a), 5)

	resp, err := http.Get(st.admin.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), `lmn_panics_total{source="encar"} 1`)
}
