// Package search answers a Query: it plans which sources to ask and what,
// runs them through the fan-out, and merges what came back into one page.
package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/merge"
	"github.com/lmn/aggregator/sources/danawa"
	"github.com/lmn/aggregator/sources/encar"
	"github.com/lmn/aggregator/sources/glovis"
	"github.com/lmn/aggregator/vehicle"
)

// Service runs searches.
type Service struct {
	Encar   *encar.Client
	Danawa  *danawa.Client
	Glovis  *glovis.Client // detail pages of auction lots
	Auction *glovis.Store
	Recent  *danawa.Recent // Danawa rows seen lately, for detail requests
	Fanout  *fanout.Fanout
}

// enrich adds a Glovis detail page to a lot's row.
var enrich = glovis.Enrich

// Result is one page and how each source did.
type Result struct {
	Rows []vehicle.Vehicle
	More bool
	// FailedDealers are the needed dealer sources that failed, in the fixed
	// order encar, danawa.
	FailedDealers []vehicle.Source
	// AuctionUnavailable is set when the auction was needed but the index has
	// not loaded yet.
	AuctionUnavailable bool
	Outcomes           []fanout.Outcome
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

// Search runs q. When every needed dealer source failed it returns a
// DealersUnavailableError together with the Result, whose Outcomes say why.
func (s *Service) Search(ctx context.Context, q vehicle.Query) (*Result, error) {
	var (
		auctionRows, encarRows, danawaRows []vehicle.Vehicle
		auctionMore, encarMore, danawaMore bool
		res                                Result
	)
	if q.NeedsAuction() {
		if ix := s.Auction.Index(); ix != nil {
			auctionRows, auctionMore = ix.Search(q, q.After, q.Limit)
		} else {
			res.AuctionUnavailable = true
		}
	}
	var tasks []fanout.Task
	if q.Needs(vehicle.Encar) {
		tasks = append(tasks, fanout.Task{Source: vehicle.Encar, Run: func(ctx context.Context) (err error) {
			encarRows, encarMore, err = s.searchEncar(ctx, q)
			return err
		}})
	}
	if q.Needs(vehicle.Danawa) {
		tasks = append(tasks, fanout.Task{Source: vehicle.Danawa, Run: func(ctx context.Context) (err error) {
			danawaRows, danawaMore, err = s.searchDanawa(ctx, q)
			return err
		}})
	}
	res.Outcomes = s.Fanout.Run(ctx, tasks)
	for _, o := range res.Outcomes {
		if o.Err != nil {
			res.FailedDealers = append(res.FailedDealers, o.Source)
			switch o.Source {
			case vehicle.Encar:
				encarRows, encarMore = nil, false
			case vehicle.Danawa:
				danawaRows, danawaMore = nil, false
			}
		}
	}
	slices.SortFunc(res.FailedDealers, func(a, b vehicle.Source) int {
		return slices.Index(vehicle.DealerSources, a) - slices.Index(vehicle.DealerSources, b)
	})
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, ctx.Err() // the client went away: nobody to answer
	}
	if len(tasks) > 0 && len(res.FailedDealers) == len(tasks) && !q.NeedsAuction() {
		return &res, &DealersUnavailableError{Failed: res.FailedDealers}
	}
	if res.AuctionUnavailable && len(tasks) == 0 {
		return &res, ErrAuctionUnavailable
	}
	danawaRows = merge.DropSeen(danawaRows, merge.Keys(encarRows))
	res.Rows, res.More = merge.Page(q.Sort, q.Limit, auctionRows, encarRows, danawaRows)
	res.More = res.More || auctionMore || encarMore || danawaMore
	return &res, nil
}

// searchEncar asks Encar for one page of limit ads in the requested order and
// keeps those that satisfy every filter.
func (s *Service) searchEncar(ctx context.Context, q vehicle.Query) ([]vehicle.Vehicle, bool, error) {
	skip := q.Skip[vehicle.Encar]
	want := skip + q.Limit
	var rows []vehicle.Vehicle
	offset, more := 0, true
	for len(rows) < want && more {
		if offset >= encar.MaxOffset {
			more = false // Encar repeats its last page past here: the walk ends
			break
		}
		count := min(encar.MaxCount, want-len(rows), encar.MaxOffset-offset)
		l, err := s.Encar.Search(ctx, encar.Search{Makes: q.Makes, Models: q.Models, Sort: q.Sort, Offset: offset, Count: count})
		if err != nil {
			return nil, false, err
		}
		rows = append(rows, keep(q, l.Rows)...)
		offset += l.Raw
		more = l.Raw > 0 && offset < l.Total
	}
	slices.SortFunc(rows, func(a, b vehicle.Vehicle) int { return vehicle.Compare(q.Sort, &a, &b) })
	more = more || len(rows) > want
	return window(rows, skip, q.Limit), more, nil
}

// window returns rows[skip : skip+limit], clipped.
func window(rows []vehicle.Vehicle, skip, limit int) []vehicle.Vehicle {
	if skip >= len(rows) {
		return nil
	}
	return rows[skip:min(len(rows), skip+limit)]
}

// searchDanawa reads list pages until it has limit matching rows or the list
// ends. Page 1 says how many rows a page holds; the pages still needed are
// then fetched at once.
func (s *Service) searchDanawa(ctx context.Context, q vehicle.Query) ([]vehicle.Vehicle, bool, error) {
	ask := danawa.Search{Makes: q.Makes, Models: q.Models, Sort: q.Sort, Page: 1}
	first, err := s.Danawa.Search(ctx, ask)
	if err != nil {
		return nil, false, err
	}
	skip := q.Skip[vehicle.Danawa]
	want := skip + q.Limit
	rows := keep(q, first.Rows)
	perPage := first.Raw
	pages := 1
	if first.Total >= 0 && perPage > 0 {
		pages = (first.Total + perPage - 1) / perPage
	}
	need := 1
	if perPage > 0 && len(rows) < want {
		need = min(pages, 1+(want-len(rows)+perPage-1)/perPage)
	}
	if need > 1 {
		var (
			mu    sync.Mutex
			wg    sync.WaitGroup
			got   = make([][]vehicle.Vehicle, need+1)
			first error
		)
		for p := 2; p <= need; p++ {
			wg.Go(func() {
				a := ask
				a.Page = p
				l, err := s.Danawa.Search(ctx, a)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if first == nil {
						first = err
					}
					return
				}
				got[p] = keep(q, l.Rows)
			})
		}
		wg.Wait()
		if first != nil {
			return nil, false, first
		}
		for _, g := range got {
			rows = append(rows, g...)
		}
	}
	slices.SortFunc(rows, func(a, b vehicle.Vehicle) int { return vehicle.Compare(q.Sort, &a, &b) })
	if s.Recent != nil {
		s.Recent.Add(rows)
	}
	more := need < pages || len(rows) > want
	return window(rows, skip, q.Limit), more, nil
}

// keep drops rows that do not satisfy q (an upstream that ignored a pushed
// filter must not widen the answer) and sorts the rest into q's order.
func keep(q vehicle.Query, rows []vehicle.Vehicle) []vehicle.Vehicle {
	out := rows[:0]
	for i := range rows {
		if q.Matches(&rows[i]) {
			out = append(out, rows[i])
		}
	}
	slices.SortFunc(out, func(a, b vehicle.Vehicle) int { return vehicle.Compare(q.Sort, &a, &b) })
	return out
}
