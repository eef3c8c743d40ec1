// Package search answers a Query: it plans which sources to ask and what,
// runs them through the fan-out, and merges what came back into one page.
package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

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
	// Enrich reads Glovis detail pages for requests, under a breaker and a
	// budget of their own, apart from the crawler's.
	Enrich   *fanout.Fanout
	enriched enrichedLots // what Enrich read, kept for the index it was read for
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
	// FilteredOut counts the dealer rows an auction-only filter excluded,
	// from the upstreams' own totals; -1 when it could not be counted.
	FilteredOut int
	Outcomes    []fanout.Outcome

	// seen is, per dealer source, the upstream position and sort key of
	// every row read, for the next page's hints.
	seen map[vehicle.Source][]position
}

type position struct {
	at int // Encar offset or Danawa page
	v  *vehicle.Vehicle
}

// Hints returns, per dealer source, the upstream position from which the
// page after `after` can be read: every row before it sorts before after, so
// rows are only ever re-read, never skipped.
func (r *Result) Hints(s vehicle.Sort, after *vehicle.Vehicle) map[vehicle.Source]int {
	hints := map[vehicle.Source]int{}
	for src, seen := range r.seen {
		if len(seen) == 0 {
			continue
		}
		order := orderOf(src, s)
		h := seen[len(seen)-1].at
		for _, p := range seen {
			if !order.before(p.v, after) {
				h = p.at
				break
			}
		}
		hints[src] = h
	}
	return hints
}

// upstreamOrder relates the order an upstream returns rows in to the order
// the page is sorted by. Mostly they are the same key; where an upstream can
// only be asked for a close relative of the key, the two predicates say how
// far apart they can be.
type upstreamOrder struct {
	// beyond: once the upstream has returned last, every row that sorts at
	// or before v has been read.
	beyond func(last, v *vehicle.Vehicle) bool
	// before: row p sorts before every row still to be served after after.
	before func(p, after *vehicle.Vehicle) bool
}

func orderOf(src vehicle.Source, s vehicle.Sort) upstreamOrder {
	o := upstreamOrder{
		beyond: func(last, v *vehicle.Vehicle) bool { return vehicle.CompareKey(s, last, v) > 0 },
		before: func(p, after *vehicle.Vehicle) bool { return vehicle.CompareKey(s, p, after) < 0 },
	}
	if src != vehicle.Encar {
		return o
	}
	switch s {
	case vehicle.SortYearDesc:
		// Encar sorts by first registration, not model year. A car is
		// registered at most a year before its model year and, here assumed,
		// at most a year after it.
		o.beyond = func(last, v *vehicle.Vehicle) bool { return registered(last)+1 < v.Year }
		o.before = func(p, after *vehicle.Vehicle) bool { return registered(p) > after.Year+1 }
	case vehicle.SortAuctionDateAsc:
		// Danawa dates have no time of day, so a car on both sites sorts at
		// different places under this sort. Encar is re-read from the start
		// of after's day, so the next page still sees the twin of a Danawa
		// row and drops the Danawa copy.
		o.before = func(p, after *vehicle.Vehicle) bool {
			if after.ListedAt.IsZero() {
				return vehicle.CompareKey(s, p, after) < 0
			}
			d := after.ListedAt.In(vehicle.KST)
			endOfDay := &vehicle.Vehicle{ListedAt: time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, -1, vehicle.KST)}
			return vehicle.CompareKey(s, p, endOfDay) < 0
		}
	}
	return o
}

// registered is the year of first registration ("YYYY-MM"), or the model
// year when the row does not say.
func registered(v *vehicle.Vehicle) int {
	if len(v.FirstRegistration) >= 4 {
		if y, err := strconv.Atoi(v.FirstRegistration[:4]); err == nil {
			return y
		}
	}
	return v.Year
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

// Bounds on how much one page may read from a dealer upstream while
// post-filtering: a filter the upstream cannot express can make a long walk.
const (
	maxEncarCalls  = 8
	maxDanawaPages = 24
	danawaParallel = 4
)

// sourceRows is one dealer source's share of a page.
type sourceRows struct {
	rows []vehicle.Vehicle // matching, after the cursor, in q's order
	more bool              // the upstream has more past what was read
	seen []position
	keys map[string]bool // dedupe keys of every row read (Encar only)
}

// Search runs q. When every needed dealer source failed it returns a
// DealersUnavailableError together with the Result, whose Outcomes say why.
func (s *Service) Search(ctx context.Context, q vehicle.Query) (*Result, error) {
	res := &Result{seen: map[vehicle.Source][]position{}}
	var auctionRows []vehicle.Vehicle
	var auctionMore bool
	if q.NeedsAuction() {
		if ix := s.Auction.Index(); ix != nil {
			auctionRows, auctionMore = ix.Search(q, q.After, q.Limit)
		} else {
			res.AuctionUnavailable = true
		}
	}

	// One slot per dealer source: each task writes only its own, and Run
	// returns only when every task has.
	var (
		got    [2]*sourceRows
		counts [2]int
		tasks  []fanout.Task
	)
	dealerOnlyCount := q.AuctionOnly() // dealer rows cannot match: count them, fetch none
	for i, src := range vehicle.DealerSources {
		if !q.Needs(src) {
			continue
		}
		tasks = append(tasks, fanout.Task{Source: src, Run: func(ctx context.Context) error {
			if dealerOnlyCount {
				n, err := s.count(ctx, src, q)
				counts[i] = n
				return err
			}
			var err error
			if src == vehicle.Encar {
				got[i], err = s.searchEncar(ctx, q)
			} else {
				got[i], err = s.searchDanawa(ctx, q)
			}
			return err
		}})
	}
	res.Outcomes = s.Fanout.Run(ctx, tasks)
	for _, o := range res.Outcomes {
		if o.Err != nil {
			res.FailedDealers = append(res.FailedDealers, o.Source)
			got[slices.Index(vehicle.DealerSources, o.Source)] = nil
		}
	}
	slices.SortFunc(res.FailedDealers, func(a, b vehicle.Source) int {
		return slices.Index(vehicle.DealerSources, a) - slices.Index(vehicle.DealerSources, b)
	})
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, ctx.Err() // the client went away: nobody to answer
	}
	if dealerOnlyCount && len(tasks) > 0 {
		res.FilteredOut = -1
		if len(res.FailedDealers) == 0 {
			res.FilteredOut = 0
			for _, n := range counts {
				res.FilteredOut += n
			}
		}
	}
	if len(tasks) > 0 && len(res.FailedDealers) == len(tasks) && !q.NeedsAuction() && !dealerOnlyCount {
		return res, &DealersUnavailableError{Failed: res.FailedDealers}
	}
	if res.AuctionUnavailable && len(tasks) == 0 {
		return res, ErrAuctionUnavailable
	}

	var encarRows, danawaRows []vehicle.Vehicle
	more := auctionMore
	e, d := got[0], got[1] // DealerSources order: encar, danawa
	if e != nil {
		encarRows, more = e.rows, more || e.more
		res.seen[vehicle.Encar] = e.seen
	}
	if d != nil {
		danawaRows, more = d.rows, more || d.more
		if e != nil {
			// The same car on both sites appears once, as its Encar ad.
			danawaRows = merge.DropSeen(danawaRows, e.keys)
		}
		res.seen[vehicle.Danawa] = d.seen
		if s.Recent != nil {
			s.Recent.Add(d.rows)
		}
	}
	res.Rows, res.More = merge.Page(q.Sort, q.Limit, auctionRows, encarRows, danawaRows)
	res.More = res.More || more
	return res, nil
}

// count asks a dealer upstream how many ads match q's make, model and range
// filters, reading no rows.
func (s *Service) count(ctx context.Context, src vehicle.Source, q vehicle.Query) (int, error) {
	if src == vehicle.Encar {
		l, err := s.Encar.Search(ctx, encarSearch(q, 0, 0))
		if err != nil {
			return 0, err
		}
		return l.Total, nil
	}
	l, err := s.Danawa.Search(ctx, danawa.Search{Makes: q.Makes, Models: q.Models, Sort: q.Sort, Page: 1})
	if err != nil {
		return 0, err
	}
	if l.Total < 0 {
		return 0, errors.New("danawa list: the page does not show its total")
	}
	return l.Total, nil
}

// encarSearch is what of q Encar can be asked: makes, models and ranges.
// Prices are widened to whole 만원 so rounding never drops a car; model
// years are not pushed down exactly (Encar's Year is the first
// registration), only a registration floor a year below year_min.
func encarSearch(q vehicle.Query, offset, count int) encar.Search {
	es := encar.Search{Makes: q.Makes, Models: q.Models, Sort: q.Sort, Offset: offset, Count: count, MileageMaxKm: q.MileageMaxKm}
	if q.PriceMinUSD != nil || q.PriceMaxUSD != nil {
		lo, hi := 0, 999999999
		if q.PriceMinUSD != nil {
			lo = int(math.Floor((float64(*q.PriceMinUSD) - 0.5) * q.FXRate / 10000))
			lo = max(lo, 0)
		}
		if q.PriceMaxUSD != nil {
			hi = int(math.Ceil((float64(*q.PriceMaxUSD) + 0.5) * q.FXRate / 10000))
		}
		es.PriceManwon = &[2]int{lo, hi}
	}
	if q.YearMin > 0 {
		from := (q.YearMin - 1) * 100
		es.RegisteredFrom = &from
	}
	return es
}

// wanted says whether a row read from an upstream belongs on this page or a
// later one: it matches every filter and sorts after the cursor.
func wanted(q vehicle.Query, v *vehicle.Vehicle) bool {
	return q.Matches(v) && (q.After == nil || vehicle.Compare(q.Sort, v, q.After) > 0)
}

// enough reports whether rows hold need wanted rows and the upstream has
// moved past the need-th one: rows tied on the key may come in any order,
// so the whole tie group must be read before the page is cut.
func enough(q vehicle.Query, order upstreamOrder, rows []vehicle.Vehicle, need int, last *vehicle.Vehicle) bool {
	if len(rows) < need || last == nil {
		return false
	}
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(a, b vehicle.Vehicle) int { return vehicle.Compare(q.Sort, &a, &b) })
	return order.beyond(last, &sorted[need-1])
}

// searchEncar reads Encar from the cursor's hint until it has a page of
// wanted rows, the list ends, or Encar's 10,000-offset ceiling is reached.
func (s *Service) searchEncar(ctx context.Context, q vehicle.Query) (*sourceRows, error) {
	need := q.Limit + 1 // one more tells whether there is a next page
	offset := q.Hints[vehicle.Encar]
	r := &sourceRows{keys: map[string]bool{}}
	var last *vehicle.Vehicle
	exhausted := false
	order := orderOf(vehicle.Encar, q.Sort)
	for calls := 0; !enough(q, order, r.rows, need, last); calls++ {
		if offset >= encar.MaxOffset {
			exhausted = true // Encar repeats its last page past here: the walk ends
			break
		}
		if calls == maxEncarCalls {
			break
		}
		count := min(encar.MaxCount, encar.MaxOffset-offset, encarAsk(q, need-len(r.rows)))
		l, err := s.Encar.Search(ctx, encarSearch(q, offset, count))
		if err != nil {
			return nil, err
		}
		for i := range l.Rows {
			v := &l.Rows[i]
			r.keys[merge.Key(v)] = true
			r.seen = append(r.seen, position{at: offset + l.Pos[i], v: v})
			last = v
			if wanted(q, v) {
				r.rows = append(r.rows, *v)
			}
		}
		offset += l.Raw
		if l.Raw == 0 || offset >= l.Total {
			exhausted = true
			break
		}
	}
	return finish(q, r, exhausted), nil
}

// encarAsk is how many rows to ask Encar for when missing rows are still
// wanted: a little more than that when every filter was pushed down (lease,
// rental and duplicate ads are left out), twice as many when rows will be
// filtered here.
func encarAsk(q vehicle.Query, missing int) int {
	if q.Keyword != "" || q.Van || q.YearMin > 0 || q.YearMax > 0 || len(q.Fuels) > 0 || len(q.Transmissions) > 0 ||
		len(q.Colors) > 0 || len(q.Options) > 0 {
		return max(2*missing, 20)
	}
	return max(missing+missing/8+4, 20)
}

// finish sorts a source's rows and cuts them to the page.
func finish(q vehicle.Query, r *sourceRows, exhausted bool) *sourceRows {
	slices.SortFunc(r.rows, func(a, b vehicle.Vehicle) int { return vehicle.Compare(q.Sort, &a, &b) })
	r.more = !exhausted || len(r.rows) > q.Limit
	if len(r.rows) > q.Limit {
		r.rows = r.rows[:q.Limit]
	}
	return r
}

// danawaPageSize is how many rows a Danawa list page is expected to hold,
// to decide how many pages to ask for at once before the first answer says.
const danawaPageSize = 20

// searchDanawa reads list pages from the cursor's hint. The pages a full
// page of rows needs are asked for at once, so one upstream round trip
// usually suffices; more are read, a few at a time, while post-filtering
// leaves the page short. A quarter more rows than the page needs are read,
// since some will be dropped as Encar duplicates.
func (s *Service) searchDanawa(ctx context.Context, q vehicle.Query) (*sourceRows, error) {
	need := q.Limit + q.Limit/4 + 2
	first := max(q.Hints[vehicle.Danawa], 1)
	ask := danawa.Search{Makes: q.Makes, Models: q.Models, Sort: q.Sort}
	r := &sourceRows{}
	var last *vehicle.Vehicle
	// listEnd is the list's last page once a page has said; readEnd bounds
	// this request's reading.
	next, listEnd, readEnd := first, math.MaxInt, first+maxDanawaPages-1
	batch := min((need+danawaPageSize-1)/danawaPageSize, maxDanawaPages)
	order := orderOf(vehicle.Danawa, q.Sort)
	for next <= min(listEnd, readEnd) && !enough(q, order, r.rows, need, last) {
		n := min(batch, min(listEnd, readEnd)-next+1)
		lists := make([]*danawa.List, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				defer fanout.Contain(&errs[i])
				a := ask
				a.Page = next + i
				lists[i], errs[i] = s.Danawa.Search(ctx, a)
			})
		}
		wg.Wait()
		for i, l := range lists {
			if errs[i] != nil {
				return nil, errs[i]
			}
			if l.Total >= 0 && l.Raw > 0 {
				listEnd = min(listEnd, max(first, (l.Total+l.Raw-1)/l.Raw))
			}
			if l.Raw == 0 {
				listEnd = min(listEnd, next+i) // past the end of the list
			}
			for j := range l.Rows {
				v := &l.Rows[j]
				r.seen = append(r.seen, position{at: next + i, v: v})
				last = v
				if wanted(q, v) {
					r.rows = append(r.rows, *v)
				}
			}
		}
		next += n
		batch = danawaParallel
	}
	return finish(q, r, next > listEnd), nil
}
