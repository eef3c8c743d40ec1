package danawa

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/vehicle"
)

func rows(ids ...string) []vehicle.Vehicle {
	out := make([]vehicle.Vehicle, len(ids))
	for i, id := range ids {
		out[i] = vehicle.Vehicle{ID: id, PriceKRW: int64(i)}
	}
	return out
}

// has returns the ids r holds. It reads with Get, which counts as a sight,
// so it is called only once a test's sequence is over.
func has(r *Recent, ids ...string) []string {
	var out []string
	for _, id := range ids {
		if _, ok := r.Get(id); ok {
			out = append(out, id)
		}
	}
	return out
}

// TestRecentForgetsTheRowSeenLeastRecently: a row seen again moves to the
// front, so a cold row is forgotten before a hot one that was inserted
// first.
func TestRecentForgetsTheRowSeenLeastRecently(t *testing.T) {
	r := NewRecent(3)
	r.Add(rows("a", "b", "c"))
	r.Add(rows("a")) // a seen again: b is now the oldest sight
	r.Add(rows("d")) // evicts b
	assert.Equal(t, []string{"a", "c", "d"}, has(r, "a", "b", "c", "d"))

	r = NewRecent(3)
	r.Add(rows("a", "b", "c"))
	_, ok := r.Get("a") // a detail view is a sight too
	assert.True(t, ok)
	r.Add(rows("d", "e")) // evicts b, then c
	assert.Equal(t, []string{"a", "d", "e"}, has(r, "a", "b", "c", "d", "e"))

	r.Add([]vehicle.Vehicle{{ID: "a", PriceKRW: 99}})
	v, _ := r.Get("a")
	assert.Equal(t, int64(99), v.PriceKRW, "the latest copy of a row is kept")
}

func TestRecentHoldsAtMostItsCapacity(t *testing.T) {
	r := NewRecent(100)
	for i := range 1000 {
		r.Add(rows(fmt.Sprint(i)))
	}
	assert.Equal(t, 100, r.order.Len())
	assert.Len(t, r.rows, 100)
	assert.Len(t, has(r, "899", "900", "999"), 2, "the last 100 rows are kept")
}
