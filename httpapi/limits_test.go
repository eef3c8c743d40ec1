package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func issuesOf(a answer) []map[string]any {
	e, _ := a.body["error"].(map[string]any)
	d, _ := e["details"].(map[string]any)
	list, _ := d["issues"].([]any)
	var out []map[string]any
	for _, i := range list {
		out = append(out, i.(map[string]any))
	}
	return out
}

func TestRequestLimits(t *testing.T) {
	st := newStack(t, neverTrips)
	const base = "/v1/vehicles?source=glovis&make=Kia"
	for _, tc := range []struct {
		name, query, path, message string
	}{
		{"keyword", "&keyword=" + url.QueryEscape(strings.Repeat("가", 101)), "keyword", "the limit is 100"},
		{"list", "&fuel=" + strings.Repeat("diesel,", 50) + "diesel", "fuel", "51 values; the limit is 50"},
		{"query", "&keyword=" + strings.Repeat("a", 4097), "query", "the limit is 4096"},
		{"huge list", "&fuel=" + strings.Repeat("x,", 50_000), "query", "the limit is 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := st.get(t, base+tc.query, demoKey)
			require.Equal(t, http.StatusBadRequest, a.status)
			assert.Equal(t, "validation_error", code(a))
			issues := issuesOf(a)
			require.Len(t, issues, 1)
			assert.Equal(t, tc.path, issues[0]["path"])
			assert.Contains(t, issues[0]["message"], tc.message)
		})
	}
	// At the limits the request is served.
	a := st.get(t, base+"&keyword="+url.QueryEscape(strings.Repeat("가", 100)), demoKey)
	assert.Equal(t, http.StatusOK, a.status)
	a = st.get(t, base+"&fuel="+strings.Repeat("diesel,", 49)+"diesel", demoKey)
	assert.Equal(t, http.StatusOK, a.status)

	// Many bad parameters: the error body stays small.
	var q strings.Builder
	for i := range 300 {
		fmt.Fprintf(&q, "&x%d=1", i)
	}
	a = st.get(t, base+q.String(), demoKey)
	require.Equal(t, http.StatusBadRequest, a.status)
	issues := issuesOf(a)
	require.Len(t, issues, 20)
	assert.Equal(t, "281 more issues not listed", issues[19]["message"])
}
