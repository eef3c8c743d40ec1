package danawa

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/panics"
	"github.com/lmn/aggregator/vehicle"
)

// Dealer reads Danawa's list pages for the search service. Positions are
// list pages counted from 0.
type Dealer struct {
	Client *Client
	// Recent, when set, remembers the matching rows read, for detail
	// requests (Danawa has no detail page).
	Recent Remembered
}

// PageSize is how many rows a list page is expected to hold, to decide how
// many pages to ask for at once before the first answer says.
const PageSize = 20

// parallel is how many list pages one Read asks for at once.
const parallel = 4

// Source is danawa.
func (d *Dealer) Source() vehicle.Source { return vehicle.Danawa }

// Read fetches the list pages that r.Want rows need, at most a few at once
// and at most r.MaxCalls, from page r.From. Only makes and models are
// pushed down.
func (d *Dealer) Read(ctx context.Context, r dealer.Request) (*dealer.Batch, error) {
	n := min(max((r.Want+PageSize-1)/PageSize, 1), parallel, max(r.MaxCalls, 1))
	ask := Search{Makes: r.Query.Makes, Models: r.Query.Models, Sort: r.Query.Sort}
	lists := make([]*List, n)
	errs := make([]error, n)
	page := func(i int) {
		defer panics.Contain(&errs[i])
		a := ask
		a.Page = r.From + i + 1
		lists[i], errs[i] = d.Client.Search(ctx, a)
	}
	var wg sync.WaitGroup
	for i := range n - 1 {
		wg.Go(func() { page(i) })
	}
	page(n - 1) // here: this goroutine would only wait
	wg.Wait()
	if err := firstFailure(errs); err != nil {
		return nil, err
	}
	b := &dealer.Batch{Next: r.From, Calls: n}
	// lastPage is the list's last page (from 0) once a page has said.
	lastPage, pageSize := math.MaxInt, 0
	rows := 0
	for _, l := range lists {
		pageSize = max(pageSize, l.Raw) // the last page of the list may be short
		rows += len(l.Rows)
	}
	b.Rows = make([]dealer.Row, 0, rows)
	for i, l := range lists {
		if l.Total >= 0 && pageSize > 0 {
			lastPage = min(lastPage, max(r.From+i, (l.Total+pageSize-1)/pageSize-1))
		}
		if l.Raw == 0 {
			lastPage = min(lastPage, r.From+i-1) // past the end of the list
			break
		}
		for j := range l.Rows {
			b.Rows = append(b.Rows, dealer.Row{V: &l.Rows[j], Pos: r.From + i})
		}
		b.Next = r.From + i + 1
	}
	b.Exhausted = b.Next > lastPage
	if d.Recent != nil {
		seen := make([]*vehicle.Vehicle, 0, len(b.Rows))
		for _, row := range b.Rows {
			if r.Query.Matches(row.V) {
				seen = append(seen, row.V)
			}
		}
		d.Recent.Add(seen)
	}
	return b, nil
}

// Order: Danawa sorts by the requested key itself, but shows listing dates
// without the time of day.
func (d *Dealer) Order(s vehicle.Sort) dealer.Order {
	return dealer.DayOrder{SameOrder: dealer.SameOrder{Sort: s}}
}

// CannotMatch: Danawa's list rows carry no transmission, colour or options.
func (d *Dealer) CannotMatch(q vehicle.Query) bool {
	return len(q.Transmissions) > 0 || len(q.Colors) > 0 || len(q.Options) > 0
}

// Count is the total Danawa shows above its first list page for the makes
// and models (Danawa has no count endpoint).
func (d *Dealer) Count(ctx context.Context, q vehicle.Query) (int, error) {
	l, err := d.Client.Search(ctx, Search{Makes: q.Makes, Models: q.Models, Sort: q.Sort, Page: 1})
	if err != nil {
		return 0, err
	}
	if l.Total < 0 {
		return 0, errors.New("danawa list: the page does not show its total")
	}
	return l.Total, nil
}

// firstFailure is the first page's error, saying how many other pages of the
// batch failed too. Pages read at once usually fail alike, and one message
// repeated per page would bury the breaker's last error in copies.
func firstFailure(errs []error) error {
	var first error
	others := 0
	for _, err := range errs {
		switch {
		case err == nil:
		case first == nil:
			first = err
		default:
			others++
		}
	}
	if first != nil && others > 0 {
		return fmt.Errorf("%w (and %d more pages of the batch)", first, others)
	}
	return first
}
