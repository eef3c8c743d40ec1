package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// raw sends one request without the client's transparent decompression and
// returns the answer as sent.
func raw(t *testing.T, st *stack, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, st.api.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("x-api-key", demoKey)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: st.client.Timeout}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.Header.Get("Content-Encoding") == "" {
		checkOpenAPI(t, req, resp, body) // 304s included
	}
	return resp, body
}

func TestGzipDecodesToTheSameJSON(t *testing.T) {
	st := newStack(t, neverTrips)
	const path = "/v1/vehicles?source=glovis&make=Kia&sort=price_asc&limit=200"
	plain, plainBody := raw(t, st, path, nil)
	require.Equal(t, http.StatusOK, plain.StatusCode)
	assert.Empty(t, plain.Header.Get("Content-Encoding"))
	zipped, zippedBody := raw(t, st, path, map[string]string{"Accept-Encoding": "gzip"})
	require.Equal(t, http.StatusOK, zipped.StatusCode)
	assert.Equal(t, "gzip", zipped.Header.Get("Content-Encoding"))
	assert.Contains(t, zipped.Header.Values("Vary"), "Accept-Encoding")
	assert.Less(t, len(zippedBody)*3, len(plainBody), "compressed to less than a third")
	zr, err := gzip.NewReader(bytes.NewReader(zippedBody))
	require.NoError(t, err)
	unzipped, err := io.ReadAll(zr)
	require.NoError(t, err)
	// The rows must be the same; the cursors differ in their expiry when
	// the two requests fall in different seconds, so only their presence is
	// compared.
	var a, b struct {
		Data       []any   `json:"data"`
		NextCursor *string `json:"next_cursor"`
	}
	require.NoError(t, json.Unmarshal(plainBody, &a))
	require.NoError(t, json.Unmarshal(unzipped, &b))
	require.NotEmpty(t, a.Data)
	assert.Equal(t, a.Data, b.Data)
	assert.Equal(t, a.NextCursor == nil, b.NextCursor == nil)
}

func TestETag(t *testing.T) {
	st := newStack(t, neverTrips)
	// An auction lot: its body changes only with a crawl. (A dealer ad's
	// fetched_at moves each time it is read upstream, and its ETag with it.)
	lots := rows(st.get(t, "/v1/vehicles?source=glovis&make=Kia&limit=1", demoKey))
	require.Len(t, lots, 1)
	for _, path := range []string{"/v1/vehicles/facets?source=glovis", "/v1/openapi.json", "/v1/vehicles/" + lots[0]["id"].(string)} {
		first, body := raw(t, st, path, nil)
		require.Equal(t, http.StatusOK, first.StatusCode, path)
		tag := first.Header.Get("ETag")
		require.Regexp(t, `^W/"[0-9a-f]+"$`, tag, path)

		again, empty := raw(t, st, path, map[string]string{"If-None-Match": tag})
		assert.Equal(t, http.StatusNotModified, again.StatusCode, path)
		assert.Empty(t, empty, path)
		assert.Equal(t, tag, again.Header.Get("ETag"), path)

		zipped, _ := raw(t, st, path, map[string]string{"If-None-Match": `"other", ` + tag, "Accept-Encoding": "gzip"})
		assert.Equal(t, http.StatusNotModified, zipped.StatusCode, "%s: the same content, compressed or not", path)

		other, otherBody := raw(t, st, path, map[string]string{"If-None-Match": `W/"0123"`})
		assert.Equal(t, http.StatusOK, other.StatusCode, path)
		assert.Equal(t, body, otherBody, path)
	}
}
