package search

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/vehicle"
)

// TestPricePushdownNeverDropsACar: the 만원 range sent to Encar always
// contains every price whose dollar amount satisfies the filter, whatever
// the rounding.
func TestPricePushdownNeverDropsACar(t *testing.T) {
	for _, fx := range []float64{1350, 1387.25, 999.9} {
		for manwon := 1; manwon < 30000; manwon += 7 {
			q := vehicle.Query{FXRate: fx}
			usd := q.USD(int64(manwon) * 10000)
			q.PriceMinUSD, q.PriceMaxUSD = &usd, &usd
			r := encarSearch(q, 0, 0).PriceManwon
			require.NotNil(t, r)
			assert.True(t, r[0] <= manwon && manwon <= r[1], "fx %v: %d만원 is $%d but Encar is asked for %d..%d", fx, manwon, usd, r[0], r[1])
		}
	}
}

func TestRegistrationFloor(t *testing.T) {
	q := vehicle.Query{YearMin: 2021, FXRate: 1350}
	s := encarSearch(q, 0, 0)
	require.NotNil(t, s.RegisteredFrom)
	assert.Equal(t, 202000, *s.RegisteredFrom, "a 2021 model may be registered in 2020")
	assert.Nil(t, s.PriceManwon)
}

func TestEncarYearOrder(t *testing.T) {
	o := orderOf(vehicle.Encar, vehicle.SortYearDesc)
	last := &vehicle.Vehicle{Year: 2021, FirstRegistration: "2020-11"}
	assert.False(t, o.beyond(last, &vehicle.Vehicle{Year: 2021}), "a 2021 model registered in 2020 may still follow")
	assert.True(t, o.beyond(last, &vehicle.Vehicle{Year: 2022}))
	assert.True(t, o.before(&vehicle.Vehicle{FirstRegistration: "2024-01"}, &vehicle.Vehicle{Year: 2022}))
	assert.False(t, o.before(&vehicle.Vehicle{FirstRegistration: "2023-01"}, &vehicle.Vehicle{Year: 2022}))

	d := orderOf(vehicle.Danawa, vehicle.SortYearDesc)
	assert.True(t, d.beyond(&vehicle.Vehicle{Year: 2020}, &vehicle.Vehicle{Year: 2021}), "Danawa sorts by model year itself")
}
