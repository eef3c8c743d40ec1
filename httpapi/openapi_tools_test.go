package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/httpapi"
)

// TestOpenAPIForTools: what lint tools and code generators trip on. An
// enum listing null reads to them as a value of the enum's type (a "<nil>"
// constant), and nullable beside allOf without a type is ignored by a
// strict reader (OpenAPI 3.0.3: nullable only adds null to an explicit
// type), so no such schema may remain.
func TestOpenAPIForTools(t *testing.T) {
	var doc any
	require.NoError(t, json.Unmarshal(httpapi.OpenAPI(), &doc))
	var walk func(path string, n any)
	walk = func(path string, n any) {
		switch n := n.(type) {
		case map[string]any:
			if enum, ok := n["enum"].([]any); ok {
				assert.NotContains(t, enum, nil, "%s: null in an enum", path)
			}
			if nullable, _ := n["nullable"].(bool); nullable {
				assert.Contains(t, n, "type", "%s: nullable without a type means nothing", path)
			}
			for k, v := range n {
				walk(path+"/"+k, v)
			}
		case []any:
			for i, v := range n {
				walk(fmt.Sprintf("%s/%d", path, i), v)
			}
		}
	}
	walk("", doc)
}

// TestOpenAPISourcesAreWhatTheServerAccepts: the source enum a generated
// client offers is exactly the set of values the server answers; a name
// the server refuses (sk, aj, lotte, kcar) is not offered.
func TestOpenAPISourcesAreWhatTheServerAccepts(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `json:"name"`
				Schema struct {
					Items struct {
						Enum []string `json:"enum"`
					} `json:"items"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	st := newStack(t, neverTrips)
	// The document as served: the one clients generate from.
	resp, err := http.Get(st.api.URL + "/v1/openapi.json")
	require.NoError(t, err)
	served, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(served, &doc))
	for _, path := range []string{"/v1/vehicles", "/v1/vehicles/facets"} {
		var enum []string
		for _, p := range doc.Paths[path]["get"].Parameters {
			if p.Name == "source" {
				enum = p.Schema.Items.Enum
			}
		}
		require.NotEmpty(t, enum, "%s: no source enum", path)
		for _, src := range []string{"glovis", "dealer", "encar", "danawa", "sk", "aj", "lotte", "kcar", "auction"} {
			query := "?source=" + src
			if path == "/v1/vehicles" {
				query += "&make=Kia" // dealer sources need a make
			}
			a := st.get(t, path+query, demoKey)
			accepted := a.status != http.StatusBadRequest
			assert.Equal(t, slices.Contains(enum, src), accepted, "%s source=%s: in the enum %v, answered %d", path, src, enum, a.status)
		}
	}
}

// TestOpenAPIBrokenBodyIsCaught: a real detail answer passes both
// validators, with its nullable fields null too, and each deliberately
// broken copy fails both: the check on every end-to-end response can fail.
func TestOpenAPIBrokenBodyIsCaught(t *testing.T) {
	st := newStack(t, neverTrips)
	lots := rows(st.get(t, "/v1/vehicles?source=glovis&make=Kia&limit=1", demoKey))
	require.Len(t, lots, 1)
	req, err := http.NewRequest(http.MethodGet, st.api.URL+"/v1/vehicles/"+lots[0]["id"].(string), nil)
	require.NoError(t, err)
	req.Header.Set("x-api-key", demoKey)
	resp, err := st.client.Do(req)
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	header := resp.Header.Clone()
	header.Del("Content-Encoding")

	edit := func(change func(v map[string]any)) []byte {
		var v map[string]any
		require.NoError(t, json.Unmarshal(raw, &v))
		change(v)
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}
	valid := map[string][]byte{
		"as served":         raw,
		"fuel null":         edit(func(v map[string]any) { v["fuel"] = nil }),
		"drivetrain null":   edit(func(v map[string]any) { v["drivetrain"] = nil }),
		"auction null":      edit(func(v map[string]any) { v["auction"] = nil }),
		"seller null":       edit(func(v map[string]any) { v["seller"] = nil }),
		"dealer_source set": edit(func(v map[string]any) { v["dealer_source"] = "encar" }),
	}
	broken := map[string][]byte{
		"year as a string":      edit(func(v map[string]any) { v["year"] = fmt.Sprint(v["year"]) }),
		"fuel not in enum":      edit(func(v map[string]any) { v["fuel"] = "petrol" }),
		"fuel the string <nil>": edit(func(v map[string]any) { v["fuel"] = "<nil>" }),
		"auction a string":      edit(func(v map[string]any) { v["auction"] = "none" }),
		"auction status bad":    edit(func(v map[string]any) { v["auction"].(map[string]any)["status"] = "cancelled" }),
		"seller missing":        edit(func(v map[string]any) { delete(v, "seller") }),
		"extra field":           edit(func(v map[string]any) { v["colour"] = "black" }),
		"make null":             edit(func(v map[string]any) { v["make"] = nil }),
	}
	for name, body := range valid {
		kin, pb := validateResponse(t, req, http.StatusOK, header, body)
		assert.NoError(t, kin, "kin-openapi refuses a valid body: %s", name)
		assert.NoError(t, pb, "libopenapi-validator refuses a valid body: %s", name)
	}
	for name, body := range broken {
		kin, pb := validateResponse(t, req, http.StatusOK, header, body)
		assert.Error(t, kin, "kin-openapi misses a broken body: %s", name)
		assert.Error(t, pb, "libopenapi-validator misses a broken body: %s", name)
	}
}
