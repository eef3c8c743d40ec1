// Package dealer is what search needs from a live dealer upstream (Encar,
// Danawa, and any later one): rows read in batches from a position in the
// upstream's own order, and how far that order has covered the requested
// sort. Each upstream implements Dealer in its own package; search loops
// over the configured dealers and never names one.
package dealer

import (
	"context"
	"time"

	"github.com/lmn/aggregator/vehicle"
)

// Dealer is one live dealer upstream.
type Dealer interface {
	// Source names the upstream.
	Source() vehicle.Source
	// Read reads the rows that come next from r.From in the upstream's
	// order for r.Query's sort, asking the upstream only what of the query
	// it can express: rows may not match every filter.
	Read(ctx context.Context, r Request) (*Batch, error)
	// Order says how the upstream's order relates to the requested sort.
	Order(s vehicle.Sort) Order
	// Count is how many ads the upstream lists for the part of q it can
	// express, without reading rows.
	Count(ctx context.Context, q vehicle.Query) (int, error)
	// CannotMatch reports whether none of the upstream's list rows can
	// satisfy q: they never carry a field q filters on (a row whose value
	// is unknown does not match a filter on it), so reading them would
	// find nothing.
	CannotMatch(q vehicle.Query) bool
}

// Request is one Read.
type Request struct {
	Query vehicle.Query
	From  int // position in the upstream's order; 0 is its start
	// Want is how many rows the caller still hopes for: a hint for the
	// size of the batch, not a bound.
	Want int
	// MaxCalls bounds the upstream calls this Read may make (at least 1).
	MaxCalls int
}

// Row is a row read and where it was read: reading again from Pos reads it again.
// V points into the upstream's parsed answer, which a cache may share with
// other requests: it is read-only. Rows travel by pointer because a
// vehicle is some 400 bytes and a page's rows pass through several stages.
type Row struct {
	V   *vehicle.Vehicle
	Pos int
}

// Batch is what a Read returned.
type Batch struct {
	Rows      []Row // in the upstream's order
	Next      int   // the position after the last row read
	Exhausted bool  // the upstream lists nothing past Next
	Calls     int   // upstream calls made
}

// Order relates an upstream's order to the requested sort. Bounds are rows
// of which only the sort key fields matter; "before" is by sort key alone
// (vehicle.CompareKey), since an upstream may return rows tied on the key
// in any order.
type Order interface {
	// Frontier is what reading up to and including last (the last row read
	// in the upstream's order) guarantees: every row that sorts strictly
	// before the returned bound has been read.
	Frontier(last *vehicle.Vehicle) *vehicle.Vehicle
	// Passed reports whether r, and every row before it in the upstream's
	// order, sorts strictly before bound: reading may resume after r.
	Passed(r, bound *vehicle.Vehicle) bool
	// TwinFloor is the earliest place another site's listing of the same
	// car can sort at, for any row of this upstream that sorts after
	// bound. Sites that show the same sort keys return bound.
	TwinFloor(bound *vehicle.Vehicle) *vehicle.Vehicle
}

// SameOrder is the order of an upstream that sorts by exactly the requested
// key (ties in any order).
type SameOrder struct{ Sort vehicle.Sort }

func (o SameOrder) Frontier(last *vehicle.Vehicle) *vehicle.Vehicle { return last }

func (o SameOrder) Passed(r, bound *vehicle.Vehicle) bool {
	return vehicle.CompareKey(o.Sort, r, bound) < 0
}

func (o SameOrder) TwinFloor(bound *vehicle.Vehicle) *vehicle.Vehicle { return bound }

// DayOrder is SameOrder for an upstream that shows listing dates without
// the time of day: the same car listed on a site that keeps the time sorts
// anywhere within that day, so, under the newest-first listing order, up to
// the end of the day.
type DayOrder struct{ SameOrder }

func (o DayOrder) TwinFloor(bound *vehicle.Vehicle) *vehicle.Vehicle {
	if o.Sort != vehicle.SortAuctionDateAsc || bound.ListedAt.IsZero() || bound.Auction != nil {
		return bound
	}
	d := bound.ListedAt.In(vehicle.KST)
	return &vehicle.Vehicle{ListedAt: time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, -1, vehicle.KST)}
}
