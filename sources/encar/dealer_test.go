package encar

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
			r := Pushdown(q, 0, 0).PriceManwon
			require.NotNil(t, r)
			assert.True(t, r[0] <= manwon && manwon <= r[1], "fx %v: %d만원 is $%d but Encar is asked for %d..%d", fx, manwon, usd, r[0], r[1])
		}
	}
}

func TestRegistrationRange(t *testing.T) {
	q := vehicle.Query{YearMin: 2021, FXRate: 1350}
	s := Pushdown(q, 0, 0)
	require.NotNil(t, s.RegisteredFrom)
	assert.Equal(t, 202000, *s.RegisteredFrom, "a 2021 model may be registered in 2020")
	assert.Nil(t, s.RegisteredTo)
	assert.Nil(t, s.PriceManwon)
	assert.Contains(t, Expression(s), "_.Year.range(202000..999999999).")

	q.YearMax = 2022
	s = Pushdown(q, 0, 0)
	require.NotNil(t, s.RegisteredTo)
	assert.Equal(t, 202412, *s.RegisteredTo, "a 2022 model may be registered as late as 2024")
	assert.Contains(t, Expression(s), "_.Year.range(202000..202412).")
	q.YearMin = 0
	assert.Contains(t, Expression(Pushdown(q, 0, 0)), "_.Year.range(0..202412).")
}

// TestRegistrationOrder: under year_desc Encar's order is by registration,
// which may lead the model year by a year and lag it by two.
func TestRegistrationOrder(t *testing.T) {
	o := (&Dealer{}).Order(vehicle.SortYearDesc)
	reg := func(ym string) *vehicle.Vehicle { return &vehicle.Vehicle{Year: 2000, FirstRegistration: ym} }
	year := func(y int) *vehicle.Vehicle { return &vehicle.Vehicle{Year: y} }
	before := func(v, bound *vehicle.Vehicle) bool { return vehicle.CompareKey(vehicle.SortYearDesc, v, bound) < 0 }

	// Read down to a car registered in 2020-11: a 2021 model registered in
	// 2020-01 may still follow, a 2022 model may not.
	f := o.Frontier(reg("2020-11"))
	assert.False(t, before(year(2021), f), "a 2021 model may be registered in 2020")
	assert.True(t, before(year(2022), f))

	// Resuming after a 2022 model: a car registered in 2025 is at least a
	// 2023 model; one registered in 2024 may be a 2022 model registered late.
	assert.True(t, o.Passed(reg("2025-01"), year(2022)))
	assert.False(t, o.Passed(reg("2024-12"), year(2022)), "a 2022 model may be registered in 2024")
	assert.True(t, o.Passed(reg("2024-12"), &vehicle.Vehicle{}), "every year sorts before no year")

	s := (&Dealer{}).Order(vehicle.SortPriceAsc)
	assert.True(t, s.Passed(&vehicle.Vehicle{PriceKRW: 1}, &vehicle.Vehicle{PriceKRW: 2}))
	assert.False(t, s.Passed(&vehicle.Vehicle{PriceKRW: 2}, &vehicle.Vehicle{PriceKRW: 2}), "ties come in any order")
}
