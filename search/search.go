// Package search answers a Query: it plans which sources to ask and what,
// runs them through the fan-out, and merges what came back into one page.
package search

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/merge"
	"github.com/lmn/aggregator/sources/danawa"
	"github.com/lmn/aggregator/sources/encar"
	"github.com/lmn/aggregator/sources/glovis"
	"github.com/lmn/aggregator/vehicle"
)

// Service runs searches.
type Service struct {
	// Dealers are the live dealer upstreams, in order of preference: a car
	// two of them list is served from the first.
	Dealers []dealer.Dealer
	// Calls bounds, per dealer source, the upstream calls one request may
	// make; a source missing from it gets DefaultCalls.
	Calls   map[vehicle.Source]int
	Encar   *encar.Client  // detail pages of Encar ads
	Glovis  *glovis.Client // detail pages of auction lots
	Auction *glovis.Store
	Recent  danawa.Remembered // Danawa rows seen lately, for detail requests
	Fanout  *fanout.Fanout
	// Enrich reads Glovis detail pages for requests, under a breaker and a
	// budget of their own, apart from the crawler's.
	Enrich   *fanout.Fanout
	enriched enrichedLots // what Enrich read, kept for the index it was read for
}

// DefaultCalls is the per-request call budget of a dealer source that has
// none configured. ProgressCalls bounds the calls a request makes to one
// source to move past the page's start when the budget did not suffice:
// enough for Encar to reach its 10,000-row end, for a year_desc page
// needs the registrations of four years.
const (
	DefaultCalls  = 8
	ProgressCalls = 32
)

// enrich adds a Glovis detail page to a lot's row.
var enrich = glovis.Enrich

// Result is one page and how each source did.
type Result struct {
	Rows []vehicle.Vehicle
	More bool
	// After and Hints say where the next page starts when More is set: it
	// holds the rows that sort after After (the last row served, or, when
	// a source's budget cut the page short, the bound up to which every
	// source has been read: a row with no id), reading each dealer source
	// from its hint (-1 when nothing is left to read there).
	After *vehicle.Vehicle
	Hints map[vehicle.Source]int
	// FailedDealers are the needed dealer sources that failed, in the fixed
	// order of vehicle.DealerSources.
	FailedDealers []vehicle.Source
	// AuctionUnavailable is set when the auction was needed but the index has
	// not loaded yet.
	AuctionUnavailable bool
	// FilteredOut counts the dealer rows an auction-only filter excluded,
	// from the upstreams' own totals; -1 when it could not be counted.
	FilteredOut int
	Outcomes    []fanout.Outcome
}

// DealersUnavailableError is returned when the request needed no auction
// rows and every dealer source it needed failed.
type DealersUnavailableError struct {
	Failed []vehicle.Source
}

func (e *DealersUnavailableError) Error() string {
	return fmt.Sprintf("every needed dealer source failed: %v", e.Failed)
}

// ErrAuctionUnavailable is returned for an auction-only request before the
// auction index has loaded.
var ErrAuctionUnavailable = errors.New("auction index not loaded yet")

// reading is what one dealer source read for a page.
type reading struct {
	source    vehicle.Source
	order     dealer.Order
	rows      []dealer.Row // every row read, in the upstream's order
	next      int          // where reading stopped
	exhausted bool         // nothing is left past next
	// frontier bounds what was read: every row that sorts strictly before
	// it has been. Nil when no row was read.
	frontier *vehicle.Vehicle
}

// Search runs q. When every needed dealer source failed it returns a
// DealersUnavailableError together with the Result, whose Outcomes say why.
func (s *Service) Search(ctx context.Context, q vehicle.Query) (*Result, error) {
	res := &Result{}
	var auctionRows []vehicle.Vehicle
	var auctionMore bool
	if q.NeedsAuction() {
		if ix := s.Auction.Index(); ix != nil {
			auctionRows, auctionMore = ix.Search(q, q.After, q.Limit)
		} else {
			res.AuctionUnavailable = true
		}
	}

	var dealers []dealer.Dealer
	for _, d := range s.Dealers {
		if q.Needs(d.Source()) {
			dealers = append(dealers, d)
		}
	}
	// One slot per dealer source: each task writes only its own, and Run
	// returns only when every task has.
	reads := make([]*reading, len(dealers))
	counts := make([]int, len(dealers))
	countOnly := q.AuctionOnly() // dealer rows cannot match: count them, fetch none
	tasks := make([]fanout.Task, len(dealers))
	for i, d := range dealers {
		tasks[i] = fanout.Task{Source: d.Source(), Run: func(ctx context.Context) (err error) {
			if countOnly {
				counts[i], err = d.Count(ctx, q)
				return err
			}
			// Sources after the first lose some rows as twins of the
			// first's: they read a quarter more.
			reads[i], err = s.read(ctx, d, q, i > 0)
			return err
		}}
	}
	res.Outcomes = s.Fanout.Run(ctx, tasks)
	for i, o := range res.Outcomes {
		if o.Err != nil {
			res.FailedDealers = append(res.FailedDealers, o.Source)
			reads[i] = nil
		}
	}
	slices.SortFunc(res.FailedDealers, func(a, b vehicle.Source) int {
		return slices.Index(vehicle.DealerSources, a) - slices.Index(vehicle.DealerSources, b)
	})
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, ctx.Err() // the client went away: nobody to answer
	}
	if countOnly && len(tasks) > 0 {
		res.FilteredOut = -1
		if len(res.FailedDealers) == 0 {
			res.FilteredOut = 0
			for _, n := range counts {
				res.FilteredOut += n
			}
		}
	}
	if len(tasks) > 0 && len(res.FailedDealers) == len(tasks) && !q.NeedsAuction() && !countOnly {
		return res, &DealersUnavailableError{Failed: res.FailedDealers}
	}
	if res.AuctionUnavailable && len(tasks) == 0 {
		return res, ErrAuctionUnavailable
	}
	if countOnly {
		res.Rows, res.More = auctionRows, auctionMore
		if auctionMore {
			res.After = &res.Rows[len(res.Rows)-1]
		}
		return res, nil
	}
	s.page(q, res, auctionRows, auctionMore, reads)
	return res, nil
}

// read reads one dealer source from the cursor's hint until it holds a
// page of wanted rows before its frontier, the source is exhausted, or the
// source's call budget is spent. Whatever the budget, it reads on until its
// frontier has passed the page's start, so that every page moves the walk
// on, up to ProgressCalls calls; a source that cannot move on by then fails.
func (s *Service) read(ctx context.Context, d dealer.Dealer, q vehicle.Query, quarterMore bool) (*reading, error) {
	r := &reading{source: d.Source(), order: d.Order(q.Sort), next: q.Hints[d.Source()]}
	if r.next < 0 {
		r.exhausted = true // an earlier page read it to its end
		return r, nil
	}
	if d.CannotMatch(q) {
		r.exhausted = true // none of its rows could be served
		return r, nil
	}
	budget, ok := s.Calls[d.Source()]
	if !ok {
		budget = DefaultCalls
	}
	budget = min(max(budget, 1), ProgressCalls)
	need := q.Limit + 1 // one more tells whether there is a next page
	if quarterMore {
		need += q.Limit / 4
	}
	want := need + need/8 + 4 // lease, rental and duplicate ads are left out
	progressed := false
	for calls := 0; calls < budget || !progressed; want = min(2*want, 1<<20) {
		if calls >= ProgressCalls {
			return nil, fmt.Errorf("%s: %d calls read no row past the page's start", d.Source(), calls)
		}
		limit := budget
		if calls >= budget {
			limit = ProgressCalls
		}
		b, err := d.Read(ctx, dealer.Request{Query: q, From: r.next, Want: want, MaxCalls: limit - calls})
		if err != nil {
			return nil, err
		}
		calls += max(b.Calls, 1)
		r.rows = append(r.rows, b.Rows...)
		r.next = b.Next
		if b.Exhausted {
			r.exhausted = true
			break
		}
		if n := len(r.rows); n > 0 {
			r.frontier = r.order.Frontier(r.rows[n-1].V)
			progressed = q.After == nil || vehicle.CompareKey(q.Sort, r.frontier, q.After) > 0
			if progressed && wantedBefore(q, r.rows, r.frontier) >= need {
				break
			}
		}
	}
	return r, nil
}

// wanted says whether a row read from an upstream belongs on this page or a
// later one: it matches every filter and sorts after the cursor.
func wanted(q vehicle.Query, v *vehicle.Vehicle) bool {
	return q.Matches(v) && (q.After == nil || vehicle.Compare(q.Sort, v, q.After) > 0)
}

// wantedBefore counts the wanted rows that sort strictly before frontier.
func wantedBefore(q vehicle.Query, rows []dealer.Row, frontier *vehicle.Vehicle) int {
	n := 0
	for i := range rows {
		if v := rows[i].V; wanted(q, v) && vehicle.CompareKey(q.Sort, v, frontier) < 0 {
			n++
		}
	}
	return n
}

// page merges the auction rows and what the dealer sources read into res:
// only rows before the earliest frontier of the dealers still reading, a
// car two dealers list once (from the preferred one), and where the next
// page starts.
func (s *Service) page(q vehicle.Query, res *Result, auctionRows []vehicle.Vehicle, auctionMore bool, reads []*reading) {
	var frontier *vehicle.Vehicle // nil: every dealer is exhausted
	blocked := false              // a dealer still reading has read nothing
	for _, r := range reads {
		if r == nil || r.exhausted {
			continue
		}
		if r.frontier == nil {
			blocked = true
		}
		frontier = merge.Earliest(q.Sort, frontier, r.frontier)
	}
	lists := make([][]*vehicle.Vehicle, 0, len(reads)+1)
	// The keys of the matching rows read so far, with the dealer that read
	// each first: a dealer's own rows never hide each other.
	first := map[string]int{}
	var key []byte
	for d, r := range reads {
		if r == nil {
			continue
		}
		rows := make([]*vehicle.Vehicle, 0, len(r.rows))
		for i := range r.rows {
			v := r.rows[i].V
			if !q.Matches(v) {
				continue
			}
			key = merge.AppendKey(key[:0], v)
			if by, ok := first[string(key)]; !ok {
				first[string(key)] = d
			} else if by < d {
				continue // the same car as a preferred dealer's row
			}
			if q.After == nil || vehicle.Compare(q.Sort, v, q.After) > 0 {
				rows = append(rows, v)
			}
		}
		slices.SortFunc(rows, func(a, b *vehicle.Vehicle) int { return vehicle.Compare(q.Sort, a, b) })
		lists = append(lists, rows)
	}
	auction := make([]*vehicle.Vehicle, len(auctionRows))
	for i := range auctionRows {
		auction[i] = &auctionRows[i]
	}
	lists = append(lists, auction)
	for i := range lists {
		if blocked {
			lists[i] = nil
		} else {
			lists[i], _ = merge.Before(q.Sort, frontier, lists[i])
		}
	}
	var more bool
	res.Rows, more = merge.Page(q.Sort, q.Limit, lists...)
	res.More = more || auctionMore || frontier != nil || blocked
	if !res.More {
		return
	}
	switch {
	case more || auctionMore && len(res.Rows) > 0:
		res.After = &res.Rows[len(res.Rows)-1]
	case blocked:
		res.After = q.After
	default:
		// Every row before the frontier has been served.
		f := *frontier
		f.ID = ""
		res.After = &f
		if q.After != nil && vehicle.Compare(q.Sort, q.After, &f) > 0 {
			res.After = q.After
		}
	}
	res.Hints = map[vehicle.Source]int{}
	for i, r := range reads {
		if r == nil {
			continue
		}
		// A preferred dealer keeps what may be the twin of a later
		// dealer's row still to be served.
		bound := res.After
		for _, later := range reads[i+1:] {
			if later != nil && res.After != nil {
				bound = merge.Earliest(q.Sort, bound, later.order.TwinFloor(res.After))
			}
		}
		res.Hints[r.source] = resume(r, bound)
	}
}

// resume is where r's source is read from for the page after bound: the
// first row read that does not sort before bound, or where reading stopped
// (-1 once the source is exhausted and everything read is behind).
func resume(r *reading, bound *vehicle.Vehicle) int {
	for i := range r.rows {
		if bound == nil || !r.order.Passed(r.rows[i].V, bound) {
			return r.rows[i].Pos
		}
	}
	if r.exhausted {
		return -1
	}
	return r.next
}
