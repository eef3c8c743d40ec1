// Package search answers a Query: it plans which sources to ask and what,
// runs them through the fan-out, and merges what came back into one page.
package search

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/paging"
	"github.com/lmn/aggregator/vehicle"
)

// Service runs searches.
type Service struct {
	// Dealers are the live dealer upstreams, in order of preference: a car
	// two of them list is served from the first.
	Dealers []dealer.Dealer
	// Auctions are the auction houses, each served from its own index.
	Auctions []auction.Source
	// Details looks one vehicle up, per source, by an id that matched the
	// source's pattern (see registry.Parts.Detail and auction.Source).
	Details map[vehicle.Source]Detail
	// Calls bounds, per dealer source, the upstream calls one request may
	// make; a source missing from it gets DefaultCalls.
	Calls  map[vehicle.Source]int
	Fanout *fanout.Fanout
}

// Detail looks one vehicle up; outcome is set when an upstream was called.
type Detail func(ctx context.Context, id string) (v vehicle.Vehicle, outcome *fanout.Outcome, err error)

// DefaultCalls is the per-request call budget of a dealer source that has
// none configured. ProgressCalls bounds the calls a request makes to one
// source to move past the page's start when the budget did not suffice:
// enough for Encar to reach its 10,000-row end, for a year_desc page
// needs the registrations of four years.
const (
	DefaultCalls  = 8
	ProgressCalls = 32
)

// Result is one page and how each source did.
type Result struct {
	paging.Page
	// FailedDealers are the needed dealer sources that failed, in the fixed
	// order of vehicle.DealerSources.
	FailedDealers []vehicle.Source
	// AuctionUnavailable are the needed auction sources whose index has not
	// loaded yet, in the order of vehicle.AuctionSources.
	AuctionUnavailable []vehicle.Source
	// FilteredOut counts the dealer rows an auction-only filter excluded,
	// from the upstreams' own totals; -1 when it could not be counted.
	FilteredOut int
	Outcomes    []fanout.Outcome
}

// DealersUnavailableError is returned when every dealer source the request
// needed failed and no auction index it needed could answer: none was
// needed, or none of those needed has loaded (Unloaded).
type DealersUnavailableError struct {
	Failed   []vehicle.Source
	Unloaded []vehicle.Source
}

func (e *DealersUnavailableError) Error() string {
	return fmt.Sprintf("every needed dealer source failed: %v", e.Failed)
}

// AuctionUnavailableError is returned for a request that needed only
// auction sources none of whose indexes has loaded yet.
type AuctionUnavailableError struct {
	Sources []vehicle.Source
}

func (e *AuctionUnavailableError) Error() string {
	return fmt.Sprintf("auction index not loaded yet: %v", e.Sources)
}

// Search runs q. When every needed dealer source failed it returns a
// DealersUnavailableError together with the Result, whose Outcomes say why.
func (s *Service) Search(ctx context.Context, q vehicle.Query) (*Result, error) {
	res := &Result{}
	var auctions []paging.Auction
	for _, a := range s.Auctions {
		if !q.Needs(a.Source()) {
			continue
		}
		ix := a.Index()
		if ix == nil {
			res.AuctionUnavailable = append(res.AuctionUnavailable, a.Source())
			continue
		}
		var p paging.Auction
		p.Rows, p.More = ix.Search(q, q.After, q.Limit)
		auctions = append(auctions, p)
	}
	slices.SortFunc(res.AuctionUnavailable, inOrder(vehicle.AuctionSources()))

	var dealers []dealer.Dealer
	for _, d := range s.Dealers {
		if q.Needs(d.Source()) {
			dealers = append(dealers, d)
		}
	}
	// One slot per dealer source: each task writes only its own, and Run
	// returns only when every task has.
	reads := make([]*paging.Reading, len(dealers))
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
	slices.SortFunc(res.FailedDealers, inOrder(vehicle.DealerSources()))
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
	// No needed source can answer: every dealer failed, and no auction
	// index was needed or none of those needed has loaded.
	if len(tasks) > 0 && len(res.FailedDealers) == len(tasks) && len(auctions) == 0 && !countOnly {
		return res, &DealersUnavailableError{Failed: res.FailedDealers, Unloaded: res.AuctionUnavailable}
	}
	if len(res.AuctionUnavailable) > 0 && len(auctions) == 0 && len(tasks) == 0 {
		return res, &AuctionUnavailableError{Sources: res.AuctionUnavailable}
	}
	if countOnly {
		reads = nil // dealer rows cannot match: the page is the auctions'
	}
	res.Page = paging.Cut(q, auctions, reads)
	return res, nil
}

// inOrder compares sources by their place in order.
func inOrder(order []vehicle.Source) func(a, b vehicle.Source) int {
	return func(a, b vehicle.Source) int { return slices.Index(order, a) - slices.Index(order, b) }
}

// read reads one dealer source from the cursor's hint until it holds a
// page of wanted rows before its frontier, the source is exhausted, or the
// source's call budget is spent. Whatever the budget, it reads on until its
// frontier has passed the page's start, so that every page moves the walk
// on, up to ProgressCalls calls; a source that cannot move on by then fails.
func (s *Service) read(ctx context.Context, d dealer.Dealer, q vehicle.Query, quarterMore bool) (*paging.Reading, error) {
	r := &paging.Reading{Source: d.Source(), Order: d.Order(q.Sort), Next: q.Hints[d.Source()]}
	if r.Next < 0 {
		r.Exhausted = true // an earlier page read it to its end
		return r, nil
	}
	if d.CannotMatch(q) {
		r.Exhausted = true // none of its rows could be served
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
		b, err := d.Read(ctx, dealer.Request{Query: q, From: r.Next, Want: want, MaxCalls: limit - calls})
		if err != nil {
			return nil, err
		}
		calls += max(b.Calls, 1)
		r.Rows = append(r.Rows, b.Rows...)
		r.Next = b.Next
		if b.Exhausted {
			r.Exhausted = true
			break
		}
		if n := len(r.Rows); n > 0 {
			r.Frontier = r.Order.Frontier(r.Rows[n-1].V)
			progressed = q.After == nil || vehicle.CompareKey(q.Sort, r.Frontier, q.After) > 0
			if progressed && wantedBefore(q, r.Rows, r.Frontier) >= need {
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
