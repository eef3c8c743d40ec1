package auction

import (
	"slices"
	"time"

	"github.com/lmn/aggregator/vehicle"
)

// Catalogue is one crawl's lots of an auction house, each of its own lot
// type L with the row partners see, immutable once built: a crawl builds a
// new one and swaps it in whole. It keeps one precomputed order per sort,
// so a search is a filtered walk. Every auction's index is a Catalogue of
// its lots (it satisfies Index).
type Catalogue[L any] struct {
	lots    []L
	rows    []vehicle.Vehicle
	byID    map[string]int
	orders  map[vehicle.Sort][]int32
	builtAt time.Time
}

// NewCatalogue builds a catalogue over lots, whose rows row returns.
func NewCatalogue[L any](lots []L, row func(*L) vehicle.Vehicle, builtAt time.Time) *Catalogue[L] {
	rows := make([]vehicle.Vehicle, len(lots))
	for i := range lots {
		rows[i] = row(&lots[i])
	}
	c := &Catalogue[L]{lots: lots, rows: rows, byID: make(map[string]int, len(rows)), orders: map[vehicle.Sort][]int32{}, builtAt: builtAt}
	for i := range rows {
		c.byID[rows[i].ID] = i
	}
	for _, s := range vehicle.Sorts {
		order := make([]int32, len(rows))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return vehicle.Compare(s, &rows[a], &rows[b]) })
		c.orders[s] = order
	}
	return c
}

// Len is the number of lots.
func (c *Catalogue[L]) Len() int { return len(c.rows) }

// BuiltAt is when the crawl that built the catalogue finished.
func (c *Catalogue[L]) BuiltAt() time.Time { return c.builtAt }

// Search returns up to limit rows matching q, in q's sort order, starting
// after the row `after` when it is not nil. The second result reports
// whether more rows match.
func (c *Catalogue[L]) Search(q vehicle.Query, after *vehicle.Vehicle, limit int) ([]vehicle.Vehicle, bool) {
	order := c.orders[q.Sort]
	if order == nil {
		order = c.orders[vehicle.SortAuctionDateAsc]
	}
	start := 0
	if after != nil {
		var found bool
		start, found = slices.BinarySearchFunc(order, after, func(i int32, t *vehicle.Vehicle) int {
			return vehicle.Compare(q.Sort, &c.rows[i], t)
		})
		if found {
			start++ // the row itself was served on the previous page
		}
	}
	out := make([]vehicle.Vehicle, 0, min(limit, 64))
	for _, i := range order[start:] {
		v := &c.rows[i]
		if !q.Matches(v) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, *v)
	}
	return out, false
}

// Rows returns every lot's row in catalogue order. The slice must not be
// modified.
func (c *Catalogue[L]) Rows() []vehicle.Vehicle { return c.rows }

// Lot returns the lot with the given id.
func (c *Catalogue[L]) Lot(id string) (L, bool) {
	i, ok := c.byID[id]
	if !ok {
		var zero L
		return zero, false
	}
	return c.lots[i], true
}

// Lots returns every lot. The slice must not be modified.
func (c *Catalogue[L]) Lots() []L { return c.lots }
