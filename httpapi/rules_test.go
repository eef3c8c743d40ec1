package httpapi_test

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sim"
)

var filteredOutRe = regexp.MustCompile(`^dealer=(\d+)$`)

func TestAuctionOnlyFiltersExcludeDealerRows(t *testing.T) {
	st := newStack(t, neverTrips)

	a := st.get(t, "/v1/vehicles?source=dealer&accident_grade=A&make=Kia", demoKey)
	require.Equal(t, http.StatusOK, a.status)
	assert.Empty(t, rows(a))
	assert.Nil(t, a.body["next_cursor"])
	m := filteredOutRe.FindStringSubmatch(a.header.Get("X-LMN-Filtered-Out"))
	require.NotNil(t, m, "X-LMN-Filtered-Out: %q", a.header.Get("X-LMN-Filtered-Out"))
	n, _ := strconv.Atoi(m[1])
	assert.Greater(t, n, 100, "the dealer rows that matched the other filters, from the upstreams' totals")

	a = st.get(t, "/v1/vehicles?accident_grade=A&make=Kia&limit=200", demoKey)
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "dealer="+m[1], a.header.Get("X-LMN-Filtered-Out"))
	require.NotEmpty(t, rows(a))
	for _, r := range rows(a) {
		assert.Contains(t, []any{"glovis", "kcar"}, r["source"], "auction rows only")
		assert.Equal(t, "A", r["accident_grade"])
	}

	require.NoError(t, st.sim.SetFault("encar", sim.Fault{Mode: sim.Down}))
	a = st.get(t, "/v1/vehicles?accident_grade=A&make=Kia", demoKey)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Empty(t, a.header.Get("X-LMN-Filtered-Out"), "a count that failed is not reported as a number")
	assert.Equal(t, "encar", a.header.Get("X-LMN-Partial-Dealer-Unavailable"))
}

// TestEveryRowSatisfiesEveryFilter: filters Danawa cannot express (fuel,
// transmission, colour) and ranges are applied to the rows, never dropped.
func TestEveryRowSatisfiesEveryFilter(t *testing.T) {
	st := newStack(t, neverTrips)
	a := st.get(t, "/v1/vehicles?make=Hyundai,Kia&fuel=diesel,gasoline&year_min=2019&year_max=2023&mileage_max_km=60000"+
		"&price_min_usd=12000&price_max_usd=30000&transmission=auto&keyword=노블레스&limit=200&sort=mileage_asc", demoKey)
	require.Equal(t, http.StatusOK, a.status)
	require.NotEmpty(t, rows(a))
	prev := -1
	for _, r := range rows(a) {
		assert.Contains(t, []any{"Hyundai", "Kia"}, r["make"])
		assert.Contains(t, []any{"diesel", "gasoline"}, r["fuel"], r["id"])
		assert.Equal(t, "auto", r["transmission"], r["id"])
		year := int(r["year"].(float64))
		km := int(r["mileage_km"].(float64))
		price := int(r["pricing"].(map[string]any)["listing_price"].(float64))
		assert.True(t, year >= 2019 && year <= 2023, r["id"])
		assert.LessOrEqual(t, km, 60000, r["id"])
		assert.True(t, price >= 12000 && price <= 30000, "%v: %d", r["id"], price)
		assert.Contains(t, r["trim"], "노블레스")
		assert.GreaterOrEqual(t, km, prev, "mileage_asc")
		prev = km
	}

	a = st.get(t, "/v1/vehicles?source=glovis&auction_status=sold&exterior_grade=A,B&auction_date_from=2025-06-13&auction_date_to=2025-06-13&auction_count_max=1&limit=200", demoKey)
	require.Equal(t, http.StatusOK, a.status)
	require.NotEmpty(t, rows(a))
	for _, r := range rows(a) {
		auction := r["auction"].(map[string]any)
		assert.Equal(t, "sold", auction["status"])
		assert.Contains(t, []any{"A", "B"}, r["exterior_grade"])
		assert.Regexp(t, `^2025-06-13T`, auction["date"], "the simulator's last round with results")
	}
	a = st.get(t, "/v1/vehicles?source=glovis&auction_date_from=2025-06-21&auction_date_to=2025-06-30", demoKey)
	assert.Empty(t, rows(a), "no auction on those days")
}
