// Package paging is where a page starts and ends: the cut of merged rows
// at the earliest frontier of the dealers still reading, where each dealer
// is read from on the next page, and the cursor state that carries it from
// page to page. search reads the sources and hands what they read here;
// httpapi turns the state into a signed cursor and back.
package paging

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/merge"
	"github.com/lmn/aggregator/vehicle"
)

// Reading is what one dealer source read for a page.
type Reading struct {
	Source    vehicle.Source
	Order     dealer.Order
	Rows      []dealer.Row // every row read, in the upstream's order
	Next      int          // where reading stopped
	Exhausted bool         // nothing is left past Next
	// Frontier bounds what was read: every row that sorts strictly before
	// it has been. Nil when no row was read.
	Frontier *vehicle.Vehicle
}

// Auction is what one auction index answered for a page: up to limit rows
// after the cursor, and whether more match.
type Auction struct {
	Rows []vehicle.Vehicle
	More bool
}

// Page is one page and where the next starts.
type Page struct {
	Rows []vehicle.Vehicle
	More bool
	// After and Hints say where the next page starts when More is set: it
	// holds the rows that sort after After (the last row served, or, when
	// a source's budget cut the page short, the bound up to which every
	// source has been read: a row with no id), reading each dealer source
	// from its hint (-1 when nothing is left to read there).
	After *vehicle.Vehicle
	Hints map[vehicle.Source]int
}

// Cut merges the auction indexes' rows and what the dealer sources read
// (nil for a source that failed) into one page of q: only rows before the
// earliest frontier of the dealers still reading, a car two dealers list
// once (from the earlier, preferred one), and where the next page starts.
// Auction rows are already filtered and after the cursor; dealer rows are
// filtered here.
func Cut(q vehicle.Query, auctions []Auction, reads []*Reading) Page {
	var frontier *vehicle.Vehicle // nil: every dealer is exhausted
	blocked := false              // a dealer still reading has read nothing
	for _, r := range reads {
		if r == nil || r.Exhausted {
			continue
		}
		if r.Frontier == nil {
			blocked = true
		}
		frontier = merge.Earliest(q.Sort, frontier, r.Frontier)
	}
	lists := make([][]*vehicle.Vehicle, 0, len(reads)+len(auctions))
	// The keys of the matching rows read so far, with the dealer that read
	// each first: a dealer's own rows never hide each other.
	first := map[string]int{}
	var key []byte
	for d, r := range reads {
		if r == nil {
			continue
		}
		rows := make([]*vehicle.Vehicle, 0, len(r.Rows))
		for i := range r.Rows {
			v := r.Rows[i].V
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
	auctionMore := false
	for _, a := range auctions {
		rows := make([]*vehicle.Vehicle, len(a.Rows))
		for i := range a.Rows {
			rows[i] = &a.Rows[i]
		}
		lists = append(lists, rows)
		auctionMore = auctionMore || a.More
	}
	for i := range lists {
		if blocked {
			lists[i] = nil
		} else {
			lists[i], _ = merge.Before(q.Sort, frontier, lists[i])
		}
	}
	var p Page
	var more bool
	p.Rows, more = merge.Page(q.Sort, q.Limit, lists...)
	p.More = more || auctionMore || frontier != nil || blocked
	if !p.More {
		return p
	}
	switch {
	case more || auctionMore && len(p.Rows) > 0:
		p.After = &p.Rows[len(p.Rows)-1]
	case blocked:
		p.After = q.After
	default:
		// Every row before the frontier has been served.
		f := *frontier
		f.ID = ""
		p.After = &f
		if q.After != nil && vehicle.Compare(q.Sort, q.After, &f) > 0 {
			p.After = q.After
		}
	}
	if len(reads) == 0 {
		return p
	}
	p.Hints = map[vehicle.Source]int{}
	for i, r := range reads {
		if r == nil {
			continue
		}
		// A preferred dealer keeps what may be the twin of a later
		// dealer's row still to be served.
		bound := p.After
		for _, later := range reads[i+1:] {
			if later != nil && p.After != nil {
				bound = merge.Earliest(q.Sort, bound, later.Order.TwinFloor(p.After))
			}
		}
		p.Hints[r.Source] = Resume(r, bound)
	}
	return p
}

// Resume is where r's source is read from for the page after bound: the
// first row read that does not sort before bound, or where reading stopped
// (-1 once the source is exhausted and everything read is behind).
func Resume(r *Reading, bound *vehicle.Vehicle) int {
	for i := range r.Rows {
		if bound == nil || !r.Order.Passed(r.Rows[i].V, bound) {
			return r.Rows[i].Pos
		}
	}
	if r.Exhausted {
		return -1
	}
	return r.Next
}

// Binding digests every filter a cursor is bound to (not the limit: a
// partner may change the page size between pages).
func Binding(q vehicle.Query) string {
	norm := func(s []string) string {
		c := make([]string, len(s))
		for i, x := range s {
			c[i] = strings.ToLower(x)
		}
		slices.Sort(c)
		return strings.Join(c, ",")
	}
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02")
	}
	return cursor.Digest("make="+norm(q.Makes), "model="+norm(q.Models), "keyword="+strings.ToLower(q.Keyword),
		"van="+strconv.FormatBool(q.Van), "year="+strconv.Itoa(q.YearMin)+".."+strconv.Itoa(q.YearMax),
		"km="+num(q.MileageMaxKm), "price="+num(q.PriceMinUSD)+".."+num(q.PriceMaxUSD),
		"fuel="+norm(q.Fuels), "tm="+norm(q.Transmissions), "color="+norm(q.Colors), "opt="+norm(q.Options),
		"ag="+norm(q.AccidentGrades), "eg="+norm(q.ExteriorGrades), "as="+norm(q.AuctionStatuses),
		"ad="+day(q.AuctionDateFrom)+".."+day(q.AuctionDateTo), "ac="+num(q.AuctionCountMin)+".."+num(q.AuctionCountMax),
		"fx="+strconv.FormatFloat(q.FXRate, 'f', -1, 64))
}

// Apply sets where q starts from a decoded cursor: after its row, each
// dealer source read from its hint, and only the dealer sources pinned on
// page 1.
func Apply(q *vehicle.Query, st cursor.State) {
	if a := st.After; a != nil {
		v := &vehicle.Vehicle{ID: a.ID, PriceKRW: a.Price, Year: a.Year, MileageKm: a.MileageKm}
		if a.Date != 0 {
			v.Auction = &vehicle.Auction{Date: time.Unix(a.Date, 0)}
		}
		if a.Listed != 0 {
			v.ListedAt = time.Unix(a.Listed, 0)
		}
		q.After = v
	}
	if len(st.Hints) > 0 {
		q.Hints = map[vehicle.Source]int{}
		for s, n := range st.Hints {
			q.Hints[vehicle.Source(s)] = n
		}
	}
	if len(st.Pinned) > 0 {
		pinned := q.Sources[:0:0]
		for _, s := range q.Sources {
			if !s.IsDealer() || slices.Contains(st.Pinned, string(s)) {
				pinned = append(pinned, s)
			}
		}
		q.Sources = pinned
	}
}

// Next is the state of the page after p: after the position p reports
// (the last row served, or how far every source has been read when a page
// was cut short), with each dealer source's resume position and the dealer
// sources that answered (failed: a source down on page 1 is not mixed back
// in later).
func Next(q vehicle.Query, p Page, failed []vehicle.Source, binding, requested string) cursor.State {
	st := cursor.State{Sort: string(q.Sort), Query: binding, Sources: requested}
	if last := p.After; last != nil {
		a := &cursor.After{ID: last.ID, Price: last.PriceKRW, Year: last.Year, MileageKm: last.MileageKm}
		if last.Auction != nil {
			a.Date = last.Auction.Date.Unix()
		}
		if !last.ListedAt.IsZero() {
			a.Listed = last.ListedAt.Unix()
		}
		st.After = a
	}
	if !q.NeedsDealer() {
		return st
	}
	st.Hints = map[string]int{}
	for s, n := range p.Hints {
		st.Hints[string(s)] = n
	}
	for _, s := range q.Sources {
		if s.IsDealer() && !slices.Contains(failed, s) {
			st.Pinned = append(st.Pinned, string(s))
		}
	}
	return st
}
