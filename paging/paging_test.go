package paging

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/vehicle"
)

// Two auction houses and two dealers, named for these tests only.
const (
	north, south vehicle.Source = "north", "south"
	first, later vehicle.Source = "first", "later"
)

func TestMain(m *testing.M) {
	vehicle.RegisterSource(north, false)
	vehicle.RegisterSource(south, false)
	vehicle.RegisterSource(first, true)
	vehicle.RegisterSource(later, true)
	os.Exit(m.Run())
}

// car is a row with a price in won and an id; the other fields are those
// the price sort and the filters look at.
func car(id string, price int64) vehicle.Vehicle {
	return vehicle.Vehicle{ID: id, Make: "Kia", Model: "Ray", Year: 2020, MileageKm: 1000, PriceKRW: price}
}

// index answers as an auction index does: the matching rows after the
// cursor, in order, up to limit, and whether more match.
func index(rows []vehicle.Vehicle, q vehicle.Query) Auction {
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(a, b vehicle.Vehicle) int { return vehicle.Compare(q.Sort, &a, &b) })
	var out Auction
	for i := range sorted {
		if q.After != nil && vehicle.Compare(q.Sort, &sorted[i], q.After) <= 0 {
			continue
		}
		if len(out.Rows) == q.Limit {
			out.More = true
			break
		}
		out.Rows = append(out.Rows, sorted[i])
	}
	return out
}

// TestAuctionsPageDeepTogether: any set of auction indexes pages to its
// end together, by price then id, whatever the page size, every row
// exactly once, across ties between the indexes and within one.
func TestAuctionsPageDeepTogether(t *testing.T) {
	northRows := []vehicle.Vehicle{car("north_1", 500), car("north_2", 300), car("north_3", 300), car("north_4", 900), car("north_5", 100)}
	southRows := []vehicle.Vehicle{car("south_1", 300), car("south_2", 700), car("south_3", 100)}
	// By price, ties by id, written out by hand.
	want := []string{"north_5", "south_3", "north_2", "north_3", "south_1", "south_2", "north_4"}
	// north_1 has no price (unknown): after every priced row.
	want = append(want[:len(want)-1], "north_4", "north_1")
	northRows[0].PriceKRW = 0
	for limit := 1; limit <= 9; limit++ {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			q := vehicle.Query{Sources: []vehicle.Source{north, south}, Sort: vehicle.SortPriceAsc, Limit: limit, FXRate: 1350}
			var got []string
			for pages := 0; ; pages++ {
				require.Less(t, pages, 20, "the walk ends")
				p := Cut(q, []Auction{index(northRows, q), index(southRows, q)}, nil)
				for _, v := range p.Rows {
					got = append(got, v.ID)
				}
				assert.LessOrEqual(t, len(p.Rows), limit)
				if !p.More {
					break
				}
				require.NotNil(t, p.After)
				// Through the cursor's own state, as a partner's next request.
				st := Next(q, p, nil, Binding(q), "north,south")
				assert.Empty(t, st.Hints, "auction pages need no dealer positions")
				next := vehicle.Query{Sources: q.Sources, Sort: q.Sort, Limit: q.Limit, FXRate: q.FXRate}
				Apply(&next, st)
				q = next
			}
			assert.Equal(t, want, got)
		})
	}
}

// reading is what a dealer that sorts as asked read: rows at positions
// from, from+1, …
func reading(src vehicle.Source, from int, exhausted bool, rows ...vehicle.Vehicle) *Reading {
	r := &Reading{Source: src, Order: dealer.SameOrder{Sort: vehicle.SortPriceAsc}, Next: from + len(rows), Exhausted: exhausted}
	for i := range rows {
		r.Rows = append(r.Rows, dealer.Row{V: &rows[i], Pos: from + i})
	}
	if len(rows) > 0 {
		r.Frontier = r.Order.Frontier(r.Rows[len(r.Rows)-1].V)
	}
	return r
}

// TestCutHoldsRowsPastTheFrontier: a dealer still reading bounds the page:
// a row that does not sort strictly before what that dealer has read waits
// for the next page, which reads each dealer again from its first row not
// served.
func TestCutHoldsRowsPastTheFrontier(t *testing.T) {
	q := vehicle.Query{Sources: []vehicle.Source{north, first, later}, Sort: vehicle.SortPriceAsc, Limit: 10, FXRate: 1350}
	q.Makes = []string{"Kia"}
	firstRead := reading(first, 40, false, car("first_1", 200), car("first_2", 400))
	laterRead := reading(later, 0, true, car("later_1", 300), car("later_2", 800))
	p := Cut(q, []Auction{{Rows: []vehicle.Vehicle{car("north_1", 100), car("north_2", 600)}}}, []*Reading{firstRead, laterRead})

	var ids []string
	for _, v := range p.Rows {
		ids = append(ids, v.ID)
	}
	assert.Equal(t, []string{"north_1", "first_1", "later_1"}, ids,
		"400 ties first's frontier (another 400 may be unread), 600 and 800 sort past it")
	require.True(t, p.More)
	require.NotNil(t, p.After)
	assert.Empty(t, p.After.ID, "a bound, not a row: every row up to 400 was served")
	assert.Equal(t, int64(400), p.After.PriceKRW)
	assert.Equal(t, map[vehicle.Source]int{first: 41, later: 1}, p.Hints,
		"first again from its row of 400, later from its row of 800")

	// A car both dealers list is served once, from the earlier dealer.
	twin := car("later_9", 200)
	twinRead := reading(later, 0, true, twin)
	p = Cut(q, nil, []*Reading{reading(first, 0, true, car("first_1", 200)), twinRead})
	require.Len(t, p.Rows, 1)
	assert.Equal(t, "first_1", p.Rows[0].ID)
	assert.False(t, p.More)
}

func TestResume(t *testing.T) {
	rows := []vehicle.Vehicle{car("a", 100), car("b", 200), car("c", 300)}
	bound := func(price int64) *vehicle.Vehicle { return &vehicle.Vehicle{PriceKRW: price} }
	for _, tc := range []struct {
		name      string
		exhausted bool
		bound     *vehicle.Vehicle
		want      int
	}{
		{"no bound: from the first row read", false, nil, 10},
		{"the first row not before the bound", false, bound(200), 11},
		{"a tie with the bound is read again", false, bound(300), 12},
		{"everything read is behind: where reading stopped", false, bound(301), 13},
		{"everything read is behind and nothing is left", true, bound(301), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Resume(reading(first, 10, tc.exhausted, rows...), tc.bound))
		})
	}
}

// TestCursorStateRoundTrip: what Next writes, Apply reads back: the row
// after which the next page starts (its sort keys and id), each dealer's
// position, and only the dealers that answered page 1.
func TestCursorStateRoundTrip(t *testing.T) {
	q := vehicle.Query{Sources: []vehicle.Source{first, later}, Makes: []string{"Kia"}, Sort: vehicle.SortAuctionDateAsc, Limit: 5, FXRate: 1350}
	last := car("first_7", 1234)
	last.ListedAt = time.Date(2025, 6, 18, 9, 30, 0, 0, vehicle.KST)
	last.Auction = &vehicle.Auction{Date: time.Date(2025, 6, 20, 10, 0, 0, 0, vehicle.KST)}
	p := Page{More: true, After: &last, Hints: map[vehicle.Source]int{first: 120, later: -1}}
	st := Next(q, p, []vehicle.Source{later}, "b", "first,later")
	assert.Equal(t, []string{"first"}, st.Pinned, "later failed on page 1")
	assert.Equal(t, map[string]int{"first": 120, "later": -1}, st.Hints)

	next := vehicle.Query{Sources: q.Sources, Sort: q.Sort}
	Apply(&next, st)
	assert.Equal(t, []vehicle.Source{first}, next.Sources)
	assert.Equal(t, map[vehicle.Source]int{first: 120, later: -1}, next.Hints)
	require.NotNil(t, next.After)
	assert.Equal(t, "first_7", next.After.ID)
	assert.Equal(t, 0, vehicle.Compare(vehicle.SortAuctionDateAsc, &last, next.After), "same place in the order")
	assert.Equal(t, 0, vehicle.Compare(vehicle.SortPriceAsc, &last, next.After))
}

// TestBinding: a cursor is bound to every filter, in any order or case,
// but not to the page size.
func TestBinding(t *testing.T) {
	base := vehicle.Query{Makes: []string{"Kia", "Hyundai"}, Fuels: []string{"diesel"}, Limit: 10, FXRate: 1350}
	same := base
	same.Makes, same.Limit = []string{"hyundai", "KIA"}, 200
	assert.Equal(t, Binding(base), Binding(same))
	for name, change := range map[string]func(*vehicle.Query){
		"make":    func(q *vehicle.Query) { q.Makes = []string{"Kia"} },
		"fuel":    func(q *vehicle.Query) { q.Fuels = nil },
		"year":    func(q *vehicle.Query) { q.YearMin = 2020 },
		"van":     func(q *vehicle.Query) { q.Van = true },
		"fx rate": func(q *vehicle.Query) { q.FXRate = 1400 },
		"status":  func(q *vehicle.Query) { q.AuctionStatuses = []string{"sold"} },
	} {
		q := base
		change(&q)
		assert.NotEqual(t, Binding(base), Binding(q), name)
	}
}
