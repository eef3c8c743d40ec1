package httpapi_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// walk follows next_cursor from path to the last page and returns the ids in
// the order served.
func walk(t *testing.T, st *stack, path string) []string {
	t.Helper()
	var ids []string
	next := path
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "pagination does not end")
		a := st.get(t, next, demoKey)
		require.Equal(t, 200, a.status, "%s: %v", next, a.body)
		for _, r := range rows(a) {
			ids = append(ids, r["id"].(string))
		}
		c, ok := a.body["next_cursor"].(string)
		if !ok {
			return ids
		}
		next = path + "&cursor=" + url.QueryEscape(c)
	}
}

// TestWalkEqualsOneQuery: walking every page of an auction-only query
// returns exactly the rows of one unpaginated query, in order, with no
// duplicate, for every sort. (Dealer walks are checked against the
// simulator's inventory by TestOracleWalks.)
func TestWalkEqualsOneQuery(t *testing.T) {
	st := newStack(t, neverTrips)
	path := "/v1/vehicles?source=glovis&make=Hyundai,Kia&limit=37"
	q := vehicle.Query{Sources: []vehicle.Source{vehicle.Glovis}, Makes: []string{"Hyundai", "Kia"}}
	for _, sort := range vehicle.Sorts {
		t.Run(string(sort), func(t *testing.T) {
			q := q
			q.Sort, q.Limit, q.FXRate = sort, 5000, 1350
			all, err := st.svc.Search.Search(context.Background(), q)
			require.NoError(t, err)
			require.False(t, all.More, "the reference query must hold everything")
			var want []string
			for _, v := range all.Rows {
				want = append(want, v.ID)
			}
			require.NotEmpty(t, want)
			got := walk(t, st, path+"&sort="+string(sort))
			seen := map[string]bool{}
			for _, id := range got {
				require.False(t, seen[id], "%s served twice", id)
				seen[id] = true
			}
			assert.Equal(t, want, got)
		})
	}
}

// TestCursorPinsDealerSources: a dealer source that was down on page 1 is
// not mixed back in on page 2, even once it is back.
func TestCursorPinsDealerSources(t *testing.T) {
	st := newStack(t, neverTrips)
	require.NoError(t, st.sim.SetFault("danawa", sim.Fault{Mode: sim.Down}))
	path := "/v1/vehicles?source=dealer&make=Kia&limit=20"
	a := st.get(t, path, demoKey)
	require.Equal(t, "danawa", a.header.Get("X-LMN-Partial-Dealer-Unavailable"))
	c, ok := a.body["next_cursor"].(string)
	require.True(t, ok)
	st.sim.Reset()
	hits := st.sim.Hits("danawa")
	a = st.get(t, path+"&cursor="+url.QueryEscape(c), demoKey)
	require.Equal(t, 200, a.status)
	assert.Empty(t, a.header.Get("X-LMN-Partial-Dealer-Unavailable"), "a pinned-out source is not a failure")
	assert.Equal(t, map[string]int{"encar": 20}, countBy(rows(a)))
	assert.Equal(t, hits, st.sim.Hits("danawa"), "page 2 did not ask Danawa")
}

func TestCursorBoundToItsQuery(t *testing.T) {
	st := newStack(t, neverTrips)
	a := st.get(t, "/v1/vehicles?source=glovis&make=Kia&sort=price_asc&limit=5", demoKey)
	c := url.QueryEscape(a.body["next_cursor"].(string))
	for path, reason := range map[string]string{
		"/v1/vehicles?source=glovis&make=Kia&sort=price_desc&limit=5&cursor=" + c:    "sort_mismatch",
		"/v1/vehicles?source=glovis&make=Hyundai&sort=price_asc&limit=5&cursor=" + c: "query_mismatch",
		"/v1/vehicles?source=encar&make=Kia&sort=price_asc&limit=5&cursor=" + c:      "source_mismatch",
		"/v1/vehicles?source=glovis&make=Kia&sort=price_asc&limit=5&cursor=x" + c:    "malformed",
	} {
		a := st.get(t, path, demoKey)
		assert.Equal(t, 400, a.status, path)
		e := a.body["error"].(map[string]any)
		assert.Equal(t, "invalid_cursor", e["code"], path)
		assert.Equal(t, reason, e["details"].(map[string]any)["reason"], path)
	}
	a = st.get(t, "/v1/vehicles?source=glovis&make=Kia&sort=price_asc&limit=50&cursor="+c, demoKey)
	assert.Equal(t, 200, a.status, "the page size may change between pages")
}
