package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sim"
)

func TestVehicleDetail(t *testing.T) {
	st := newStack(t, neverTrips)

	a := st.get(t, "/v1/vehicles/encar_39000000", demoKey)
	require.Equal(t, http.StatusOK, a.status, "%v", a.body)
	assert.Equal(t, "encar_39000000", a.body["id"])
	assert.Equal(t, "KNA00000039000000", a.body["vin"])
	pricing := a.body["pricing"].(map[string]any)
	assert.Equal(t, 1350.0, pricing["fx_rate"])
	assert.InDelta(t, pricing["listing_price_krw"].(float64)/1350, pricing["listing_price"].(float64), 0.5)
	assert.Regexp(t, `^\d{4}-\d{2}$`, a.body["first_registration"])
	assert.Regexp(t, `\+09:00$`, a.body["listed_at"])
	assert.Equal(t, "dealer", a.body["seller"].(map[string]any)["type"])

	a = st.get(t, "/v1/vehicles/encar_39000007", demoKey)
	assert.Equal(t, http.StatusNotFound, a.status, "a sold ad")
	assert.Equal(t, "vehicle_not_found", a.body["error"].(map[string]any)["code"])
	a = st.get(t, "/v1/vehicles/encar_12", demoKey)
	assert.Equal(t, http.StatusNotFound, a.status, "an ad Encar does not know")

	hits := st.sim.Hits("encar")
	for _, id := range []string{"encar_12a", "encar_", "glovis_2025_3100_1", "danawa_a.b", "tesla_1", "encar_1%2F..%2F2"} {
		a = st.get(t, "/v1/vehicles/"+id, demoKey)
		assert.Equal(t, http.StatusNotFound, a.status, id)
	}
	assert.Equal(t, hits, st.sim.Hits("encar"), "a malformed id reached Encar")

	require.NoError(t, st.sim.SetFault("encar", sim.Fault{Mode: sim.Down}))
	a = st.get(t, "/v1/vehicles/encar_39000000", demoKey)
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	e := a.body["error"].(map[string]any)
	assert.Equal(t, "dealer_upstream_unavailable", e["code"])
	assert.Equal(t, []any{"encar"}, e["details"].(map[string]any)["failed_sources"])
	st.sim.Reset()

	lot := st.svc.Auction("glovis").Index().Rows()[0]
	require.NoError(t, st.sim.SetFault("glovis", sim.Fault{Mode: sim.Down}))
	glovisHits := st.sim.Hits("glovis")
	a = st.get(t, "/v1/vehicles/"+lot.ID, demoKey)
	require.Equal(t, http.StatusOK, a.status, "auction details never depend on Glovis being up")
	assert.NotNil(t, a.body["vin"], "the crawl read the exhibit detail page")
	assert.Contains(t, a.body["options"], "navigation")
	assert.Regexp(t, `^\d{4}-\d{2}$`, a.body["first_registration"])
	assert.Equal(t, "auction", a.body["seller"].(map[string]any)["type"])
	assert.Equal(t, glovisHits, st.sim.Hits("glovis"), "served from the index")
	st.sim.Reset()

	a = st.get(t, "/v1/vehicles?source=glovis&options_include=navigation,smart_key&limit=5", demoKey)
	assert.Len(t, rows(a), 5, "auction rows carry their options")

	a = st.get(t, "/v1/vehicles/glovis_20250620_3100_99999", demoKey)
	assert.Equal(t, http.StatusNotFound, a.status)

	a = st.get(t, "/v1/vehicles?source=danawa&make=Kia&limit=1", demoKey)
	require.Len(t, rows(a), 1)
	id := rows(a)[0]["id"].(string)
	a = st.get(t, "/v1/vehicles/"+id, demoKey)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, id, a.body["id"])
	a = st.get(t, "/v1/vehicles/danawa_kcar-1", demoKey)
	assert.Equal(t, http.StatusNotFound, a.status, "a Danawa row never seen")
}

func TestFacets(t *testing.T) {
	st := newStack(t, neverTrips)
	a := st.get(t, "/v1/vehicles/facets?source=glovis", demoKey)
	require.Equal(t, http.StatusOK, a.status)
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$`, a.body["as_of"])
	assert.Equal(t, []any{"glovis"}, a.body["sources"])
	assert.Contains(t, a.body["makes"], "Kia")
	assert.NotContains(t, a.body["makes"], "Porsche", "the auction scope lists what the index holds")
	assert.Contains(t, a.header.Get("Cache-Control"), "max-age=")

	a = st.get(t, "/v1/vehicles/facets", demoKey)
	assert.Contains(t, a.body["makes"], "Porsche", "dealer sources can be searched for every make the dictionary knows")
	assert.Contains(t, a.body["models"].(map[string]any)["Kia"], "Sorento")
	assert.Equal(t, []any{"glovis", "kcar", "encar", "danawa"}, a.body["sources"])

	a = st.get(t, "/v1/vehicles/facets?source=lotte", demoKey)
	assert.Equal(t, http.StatusBadRequest, a.status)
	a = st.get(t, "/v1/vehicles/facets?make=Kia", demoKey)
	assert.Equal(t, http.StatusBadRequest, a.status)
}
