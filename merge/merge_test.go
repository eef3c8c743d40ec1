package merge

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/vehicle"
)

func rows(prefix string, prices ...int64) []vehicle.Vehicle {
	out := make([]vehicle.Vehicle, len(prices))
	for i, p := range prices {
		out[i] = vehicle.Vehicle{ID: fmt.Sprintf("%s_%02d", prefix, i), PriceKRW: p}
	}
	return out
}

func ids(vs []vehicle.Vehicle) []string {
	out := make([]string, len(vs))
	for i := range vs {
		out[i] = vs[i].ID
	}
	return out
}

func TestPage(t *testing.T) {
	a := rows("a", 10, 30, 30, 50)
	b := rows("b", 20, 30, 60)
	page, more := Page(vehicle.SortPriceAsc, 5, a, b, nil)
	assert.Equal(t, []string{"a_00", "b_00", "a_01", "a_02", "b_01"}, ids(page), "ties broken by id")
	assert.True(t, more)
	page, more = Page(vehicle.SortPriceAsc, 10, a, b)
	assert.Len(t, page, 7)
	assert.False(t, more)
	page, more = Page(vehicle.SortPriceAsc, 3)
	assert.Empty(t, page)
	assert.False(t, more)
}

func TestDropSeen(t *testing.T) {
	e := []vehicle.Vehicle{{ID: "encar_1", Make: "Kia", Model: "K5", Year: 2021, MileageKm: 100, PriceKRW: 2e7}}
	d := []vehicle.Vehicle{
		{ID: "danawa_1", Make: "kia", Model: "k5", Year: 2021, MileageKm: 100, PriceKRW: 2e7},
		{ID: "danawa_2", Make: "Kia", Model: "K5", Year: 2021, MileageKm: 101, PriceKRW: 2e7},
	}
	assert.Equal(t, []string{"danawa_2"}, ids(DropSeen(d, map[string]bool{Key(&e[0]): true})))
}

// BenchmarkPage200 merges three sources' 200 rows into a 200-row page.
func BenchmarkPage200(b *testing.B) {
	lists := make([][]vehicle.Vehicle, 3)
	for s := range lists {
		for i := range 200 {
			lists[s] = append(lists[s], vehicle.Vehicle{ID: fmt.Sprintf("s%d_%03d", s, i), PriceKRW: int64(i*1000 + s)})
		}
		slices.SortFunc(lists[s], func(x, y vehicle.Vehicle) int { return vehicle.Compare(vehicle.SortPriceAsc, &x, &y) })
	}
	b.ReportAllocs()
	for b.Loop() {
		Page(vehicle.SortPriceAsc, 200, lists...)
	}
}
