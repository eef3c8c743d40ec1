package httpapi_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestWalkEqualsOneQuery: walking every page of a query returns exactly the
// rows of one unpaginated query, in order, with no duplicate, for every
// sort, for auction-only and dealer-only queries.
func TestWalkEqualsOneQuery(t *testing.T) {
	st := newStack(t, neverTrips)
	for _, tc := range []struct {
		name, path string
		q          vehicle.Query
	}{
		{"auction", "/v1/vehicles?source=glovis&make=Hyundai,Kia&limit=37",
			vehicle.Query{Sources: []vehicle.Source{vehicle.Glovis}, Makes: []string{"Hyundai", "Kia"}}},
		{"dealer", "/v1/vehicles?source=dealer&make=Kia&model=Sorento,Carnival,K5&limit=23",
			vehicle.Query{Sources: []vehicle.Source{vehicle.Encar, vehicle.Danawa}, Makes: []string{"Kia"}, Models: []string{"Sorento", "Carnival", "K5"}}},
		{"dealer filtered", "/v1/vehicles?source=dealer&make=Hyundai&year_min=2020&price_max_usd=30000&limit=31",
			vehicle.Query{Sources: []vehicle.Source{vehicle.Encar, vehicle.Danawa}, Makes: []string{"Hyundai"}, YearMin: 2020, PriceMaxUSD: ptr(30000)}},
	} {
		for _, sort := range vehicle.Sorts {
			t.Run(tc.name+"/"+string(sort), func(t *testing.T) {
				q := tc.q
				q.Sort, q.Limit, q.FXRate = sort, 5000, 1350
				all, err := st.svc.Search.Search(context.Background(), q)
				require.NoError(t, err)
				require.False(t, all.More, "the reference query must hold everything")
				var want []string
				for _, v := range all.Rows {
					want = append(want, v.ID)
				}
				require.NotEmpty(t, want)
				got := walk(t, st, tc.path+"&sort="+string(sort))
				seen := map[string]bool{}
				for _, id := range got {
					require.False(t, seen[id], "%s served twice", id)
					seen[id] = true
				}
				assert.Equal(t, want, got)
			})
		}
	}
}

func ptr(n int) *int { return &n }
