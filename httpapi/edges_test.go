package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestETagOfALiveDetailIsStable: an Encar detail is read live, so its
// fetched_at moves with every read; its ETag moves only with the answer.
func TestETagOfALiveDetailIsStable(t *testing.T) {
	st := newStack(t, neverTrips)
	path := "/v1/vehicles/encar_39000000"
	first, body := raw(t, st, path, nil)
	require.Equal(t, http.StatusOK, first.StatusCode)
	tag := first.Header.Get("ETag")
	require.NotEmpty(t, tag)
	var was map[string]any
	require.NoError(t, json.Unmarshal(body, &was))

	// fetched_at is written to the second: wait for the next one, so the
	// answer below is certain to carry another.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
	later, laterBody := raw(t, st, path, nil)
	require.Equal(t, http.StatusOK, later.StatusCode)
	var is map[string]any
	require.NoError(t, json.Unmarshal(laterBody, &is))
	require.NotEqual(t, was["fetched_at"], is["fetched_at"], "the second read is a new upstream read")
	delete(was, "fetched_at")
	delete(is, "fetched_at")
	require.Equal(t, was, is, "the ad did not change")
	assert.Equal(t, tag, later.Header.Get("ETag"), "same ad, same tag")

	again, _ := raw(t, st, path, map[string]string{"If-None-Match": tag})
	assert.Equal(t, http.StatusNotModified, again.StatusCode)

	other, _ := raw(t, st, "/v1/vehicles/encar_39000001", nil)
	require.Equal(t, http.StatusOK, other.StatusCode)
	assert.NotEqual(t, tag, other.Header.Get("ETag"), "another ad, another tag")
}

// TestEdges: the answers SPEC-consistent clients rely on at the edges.
func TestEdges(t *testing.T) {
	st := newStack(t, neverTrips)

	t.Run("empty cursor", func(t *testing.T) {
		a := st.get(t, "/v1/vehicles?source=glovis&make=Kia&cursor=", demoKey)
		assert.Equal(t, http.StatusBadRequest, a.status, "not a silent restart at page 1")
		require.Equal(t, "invalid_cursor", code(a))
		details, _ := a.body["error"].(map[string]any)["details"].(map[string]any)
		assert.Equal(t, "malformed", details["reason"])
	})

	t.Run("405 allows HEAD", func(t *testing.T) {
		for _, path := range []string{"/v1/vehicles?source=glovis", "/v1/vehicles/facets", "/v1/openapi.json", "/v1/vehicles/encar_39000000"} {
			req, err := http.NewRequest(http.MethodPost, st.api.URL+path, nil)
			require.NoError(t, err)
			req.Header.Set("x-api-key", demoKey)
			resp, err := st.client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, path)
			assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"), path)

			req.Method = http.MethodHead
			resp, err = st.client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.NotEqual(t, http.StatusMethodNotAllowed, resp.StatusCode, "HEAD %s is served, as Allow says", path)
		}
	})

	t.Run("non-canonical ids", func(t *testing.T) {
		lots := rows(st.get(t, "/v1/vehicles?source=glovis&make=Kia&limit=1", demoKey))
		require.Len(t, lots, 1)
		lot := lots[0]["id"].(string) // glovis_YYYYMMDD_SITE_LOT
		require.Equal(t, http.StatusOK, st.get(t, "/v1/vehicles/"+lot, demoKey).status)
		require.Equal(t, http.StatusOK, st.get(t, "/v1/vehicles/encar_39000008", demoKey).status)
		hits := st.sim.Hits("encar")
		for _, id := range []string{"encar_0039000008", "encar_039000008", lot[:21] + "0" + lot[21:]} {
			a := st.get(t, "/v1/vehicles/"+id, demoKey)
			assert.Equal(t, http.StatusNotFound, a.status, id)
			assert.Equal(t, "vehicle_not_found", code(a), id)
		}
		assert.Equal(t, hits, st.sim.Hits("encar"), "a non-canonical id reached Encar")
	})
}
