package dealer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/vehicle"
)

func TestSameOrder(t *testing.T) {
	o := SameOrder{Sort: vehicle.SortPriceAsc}
	last := &vehicle.Vehicle{ID: "b", PriceKRW: 200}
	assert.Same(t, last, o.Frontier(last))
	assert.True(t, o.Passed(&vehicle.Vehicle{PriceKRW: 100}, last))
	assert.False(t, o.Passed(&vehicle.Vehicle{ID: "a", PriceKRW: 200}, last), "a row tied with the bound may still be needed")
	assert.Same(t, last, o.TwinFloor(last))
}

// TestDayOrderTwinFloor: a site that shows only the day of a listing lists
// the same car another site dates at any time of that day, so, newest
// first, its twin can sort as early as the end of the day.
func TestDayOrderTwinFloor(t *testing.T) {
	o := DayOrder{SameOrder{Sort: vehicle.SortAuctionDateAsc}}
	bound := &vehicle.Vehicle{ID: "encar_1", ListedAt: time.Date(2025, 6, 3, 15, 4, 5, 0, vehicle.KST)}
	f := o.TwinFloor(bound)
	assert.Equal(t, time.Date(2025, 6, 3, 23, 59, 59, 999999999, vehicle.KST), f.ListedAt)
	late := &vehicle.Vehicle{ListedAt: time.Date(2025, 6, 3, 23, 0, 0, 0, vehicle.KST)}
	assert.Negative(t, vehicle.CompareKey(vehicle.SortAuctionDateAsc, late, bound), "listed later that day: before the bound")
	assert.False(t, o.Passed(late, f), "but not before the twin floor")
	assert.True(t, o.Passed(&vehicle.Vehicle{ListedAt: time.Date(2025, 6, 4, 0, 0, 0, 0, vehicle.KST)}, f))

	for _, b := range []*vehicle.Vehicle{
		{ListedAt: bound.ListedAt, PriceKRW: 1}, // another sort: keys match exactly
		{},                                      // no listing date
	} {
		s := vehicle.SortAuctionDateAsc
		if b.PriceKRW > 0 {
			s = vehicle.SortPriceAsc
		}
		assert.Same(t, b, DayOrder{SameOrder{Sort: s}}.TwinFloor(b))
	}
}
