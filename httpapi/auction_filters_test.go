package httpapi_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/vehicle"
)

// TestAuctionFiltersOnRealVariety: the simulator's auction has results,
// two auction dates and cars back for a second round; each auction filter
// returns exactly the lots the simulator's own inventory says it should.
func TestAuctionFiltersOnRealVariety(t *testing.T) {
	st := newStack(t, neverTrips)
	var listed []string
	byStatus := map[string][]string{}
	byDay := map[string][]string{}
	firstDate := map[string]string{} // goods number → its earliest listed round's day
	for _, l := range st.sim.GlovisLots() {
		if !l.Listed {
			continue
		}
		listed = append(listed, l.ID)
		byStatus[l.Status] = append(byStatus[l.Status], l.ID)
		day := l.Date.Format("2006-01-02")
		byDay[day] = append(byDay[day], l.ID)
		if d, ok := firstDate[l.Goods]; !ok || day < d {
			firstDate[l.Goods] = day
		}
	}
	var again []string // lots of a car already put up in an earlier listed round
	for _, l := range st.sim.GlovisLots() {
		if l.Listed && firstDate[l.Goods] < l.Date.Format("2006-01-02") {
			again = append(again, l.ID)
		}
	}
	require.Len(t, byDay, 2, "two auction dates")
	require.NotEmpty(t, again, "cars back for a second round")

	same := func(t *testing.T, want []string, path string) {
		t.Helper()
		got := walk(t, st, path)
		slices.Sort(got)
		want = slices.Clone(want)
		slices.Sort(want)
		assert.Equal(t, want, got, path)
	}
	for _, status := range vehicle.AuctionStatuses {
		require.NotEmpty(t, byStatus[status], "the simulator has %s lots", status)
		same(t, byStatus[status], "/v1/vehicles?source=glovis&limit=200&auction_status="+status)
	}
	for day, ids := range byDay {
		same(t, ids, "/v1/vehicles?source=glovis&limit=200&auction_date_from="+day+"&auction_date_to="+day)
	}
	same(t, again, "/v1/vehicles?source=glovis&limit=200&auction_count_min=2")
	assert.Len(t, walk(t, st, "/v1/vehicles?source=glovis&limit=200&auction_count_max=1"), len(listed)-len(again))
}
