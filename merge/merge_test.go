package merge

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/vehicle"
)

func rows(prefix string, prices ...int64) []*vehicle.Vehicle {
	out := make([]*vehicle.Vehicle, len(prices))
	for i, p := range prices {
		out[i] = &vehicle.Vehicle{ID: fmt.Sprintf("%s_%02d", prefix, i), PriceKRW: p}
	}
	return out
}

func ids[V vehicle.Vehicle | *vehicle.Vehicle](vs []V) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		switch v := any(v).(type) {
		case vehicle.Vehicle:
			out[i] = v.ID
		case *vehicle.Vehicle:
			out[i] = v.ID
		}
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

	page, _ = Page(vehicle.SortPriceAsc, 1, a)
	a[0].PriceKRW = 11
	assert.Equal(t, int64(10), page[0].PriceKRW, "the page holds copies, not the sources' rows")
}

func TestBefore(t *testing.T) {
	r := rows("a", 10, 20, 20, 30)
	kept, held := Before(vehicle.SortPriceAsc, &vehicle.Vehicle{PriceKRW: 20}, r)
	assert.Equal(t, []string{"a_00"}, ids(kept), "a tie with the frontier waits: its key was not passed")
	assert.True(t, held)
	kept, held = Before(vehicle.SortPriceAsc, nil, r)
	assert.Len(t, kept, 4)
	assert.False(t, held)
	kept, held = Before(vehicle.SortPriceAsc, &vehicle.Vehicle{PriceKRW: 31}, r)
	assert.Len(t, kept, 4)
	assert.False(t, held)
}

func TestAppendKey(t *testing.T) {
	e := vehicle.Vehicle{ID: "encar_1", Make: "Kia", Model: "K5", Year: 2021, MileageKm: 100, PriceKRW: 2e7}
	same := vehicle.Vehicle{ID: "danawa_1", Make: "kia", Model: "k5", Year: 2021, MileageKm: 100, PriceKRW: 2e7}
	other := vehicle.Vehicle{ID: "danawa_2", Make: "Kia", Model: "K5", Year: 2021, MileageKm: 101, PriceKRW: 2e7}
	key := func(v *vehicle.Vehicle) string { return string(AppendKey([]byte("left over"), v)[len("left over"):]) }
	assert.Equal(t, "kia|k5|2021|100|20000000", key(&e))
	assert.Equal(t, key(&e), key(&same), "the same car, whatever the site's case")
	assert.NotEqual(t, key(&e), key(&other))
	for _, name := range []string{"Mercedes-Benz", "벤츠 E-클래스", "ÉCLAIR Σ", "DS7 Crossback", ""} {
		assert.Equal(t, strings.ToLower(name), string(appendLower(nil, name)), name)
	}
}

// BenchmarkPage200 merges three sources' 200 rows into a 200-row page.
func BenchmarkPage200(b *testing.B) {
	lists := make([][]*vehicle.Vehicle, 3)
	for s := range lists {
		for i := range 200 {
			lists[s] = append(lists[s], &vehicle.Vehicle{ID: fmt.Sprintf("s%d_%03d", s, i), PriceKRW: int64(i*1000 + s)})
		}
		slices.SortFunc(lists[s], func(x, y *vehicle.Vehicle) int { return vehicle.Compare(vehicle.SortPriceAsc, x, y) })
	}
	b.ReportAllocs()
	for b.Loop() {
		Page(vehicle.SortPriceAsc, 200, lists...)
	}
}
