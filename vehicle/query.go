package vehicle

import (
	"cmp"
	"slices"
	"strings"
)

// Sort is the order of a search.
type Sort string

const (
	SortAuctionDateAsc Sort = "auction_date_asc" // default
	SortPriceAsc       Sort = "price_asc"
	SortPriceDesc      Sort = "price_desc"
	SortYearDesc       Sort = "year_desc"
	SortMileageAsc     Sort = "mileage_asc"
)

// Sorts lists every sort, default first.
var Sorts = []Sort{SortAuctionDateAsc, SortPriceAsc, SortPriceDesc, SortYearDesc, SortMileageAsc}

// Query is a validated search. Make and model names are the English names of
// the public contract; matching is case-insensitive.
type Query struct {
	Sources []Source // which upstreams the request needs, in Glovis, Encar, Danawa order
	Makes   []string
	Models  []string
	Sort    Sort
	Limit   int

	// Where the page starts, from the cursor. After is the last auction row
	// served (only its sort keys and id are set); Skip counts the dealer rows
	// already served per source.
	After *Vehicle
	Skip  map[Source]int
}

// Needs reports whether the query needs source s.
func (q Query) Needs(s Source) bool { return slices.Contains(q.Sources, s) }

// NeedsAuction reports whether the query includes the auction source.
func (q Query) NeedsAuction() bool { return q.Needs(Glovis) }

// NeedsDealer reports whether the query includes any dealer source.
func (q Query) NeedsDealer() bool { return q.Needs(Encar) || q.Needs(Danawa) }

// Matches reports whether v satisfies every filter of q. Sources apply it to
// the rows they return, so a filter an upstream ignored never widens a result.
func (q Query) Matches(v *Vehicle) bool {
	if len(q.Makes) > 0 && !containsFold(q.Makes, v.Make) {
		return false
	}
	if len(q.Models) > 0 && !containsFold(q.Models, v.Model) {
		return false
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Compare orders a and b under sort s: the sort key first, rows whose key is
// unknown after every row that has one, and the id last so that the order is
// total and pages never overlap. Dealer rows have no auction date; among them
// the newest listing comes first.
func Compare(s Sort, a, b *Vehicle) int {
	var c int
	switch s {
	case SortPriceAsc:
		c = nullsLast(a.PriceKRW, b.PriceKRW, a.PriceKRW > 0, b.PriceKRW > 0, false)
	case SortPriceDesc:
		c = nullsLast(a.PriceKRW, b.PriceKRW, a.PriceKRW > 0, b.PriceKRW > 0, true)
	case SortYearDesc:
		c = nullsLast(a.Year, b.Year, a.Year > 0, b.Year > 0, true)
	case SortMileageAsc:
		c = cmp.Compare(a.MileageKm, b.MileageKm)
	default: // SortAuctionDateAsc
		c = nullsLast(auctionUnix(a), auctionUnix(b), a.Auction != nil, b.Auction != nil, false)
		if c == 0 && a.Auction == nil && b.Auction == nil {
			c = nullsLast(a.ListedAt.Unix(), b.ListedAt.Unix(), !a.ListedAt.IsZero(), !b.ListedAt.IsZero(), true)
		}
	}
	if c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func auctionUnix(v *Vehicle) int64 {
	if v.Auction == nil {
		return 0
	}
	return v.Auction.Date.Unix()
}

// nullsLast compares two keys of which either may be unknown (ok false).
// Unknown keys sort after known ones whatever the direction.
func nullsLast[T cmp.Ordered](a, b T, aok, bok, desc bool) int {
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		return 1
	case !bok:
		return -1
	case desc:
		return cmp.Compare(b, a)
	default:
		return cmp.Compare(a, b)
	}
}
