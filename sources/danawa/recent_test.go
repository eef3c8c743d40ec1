package danawa

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/vehicle"
)

func rows(ids ...string) []*vehicle.Vehicle {
	out := make([]*vehicle.Vehicle, len(ids))
	for i, id := range ids {
		out[i] = &vehicle.Vehicle{ID: id, PriceKRW: int64(i)}
	}
	return out
}

// order lists the ids r holds from the most recently seen, walking the
// list both ways so that a broken link shows.
func order(r *Recent) []string {
	var ids, back []string
	for e := r.newest; e != nil; e = e.older {
		ids = append(ids, e.v.ID)
	}
	for e := r.oldest; e != nil; e = e.newer {
		back = append([]string{e.v.ID}, back...)
	}
	if !slices.Equal(ids, back) {
		return append(ids, "broken list: backwards", fmt.Sprint(back))
	}
	return ids
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

	latest := &vehicle.Vehicle{ID: "a", PriceKRW: 99}
	r.Add([]*vehicle.Vehicle{latest})
	latest.PriceKRW = 1 // the caller's row is not the cache's
	v, _ := r.Get("a")
	assert.Equal(t, int64(99), v.PriceKRW, "the latest copy of a row is kept")
}

// TestRecentOrder follows the order of sights through every kind of move:
// a new row, a row seen again at either end or in the middle, an eviction.
func TestRecentOrder(t *testing.T) {
	r := NewRecent(4)
	assert.Empty(t, order(r))
	r.Add(rows("a"))
	assert.Equal(t, []string{"a"}, order(r))
	r.Add(rows("a")) // the only row, seen again
	assert.Equal(t, []string{"a"}, order(r))
	r.Add(rows("b", "c", "d"))
	assert.Equal(t, []string{"d", "c", "b", "a"}, order(r))
	r.Add(rows("c")) // from the middle
	assert.Equal(t, []string{"c", "d", "b", "a"}, order(r))
	r.Add(rows("a")) // from the oldest end
	assert.Equal(t, []string{"a", "c", "d", "b"}, order(r))
	r.Add(rows("a")) // already the newest
	assert.Equal(t, []string{"a", "c", "d", "b"}, order(r))
	r.Add(rows("e")) // evicts b
	assert.Equal(t, []string{"e", "a", "c", "d"}, order(r))
	_, ok := r.Get("d") // from the oldest end, by a detail view
	assert.True(t, ok)
	assert.Equal(t, []string{"d", "e", "a", "c"}, order(r))
	r.Add(rows("f", "g")) // evicts c, then a
	assert.Equal(t, []string{"g", "f", "d", "e"}, order(r))
	assert.Len(t, r.rows, 4)
}

func TestRecentHoldsAtMostItsCapacity(t *testing.T) {
	r := NewRecent(100)
	for i := range 1000 {
		r.Add(rows(fmt.Sprint(i)))
	}
	assert.Len(t, order(r), 100)
	assert.Len(t, r.rows, 100)
	assert.Len(t, has(r, "899", "900", "999"), 2, "the last 100 rows are kept")
}
