package vehicle

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
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
// the public contract; matching is case-insensitive. A zero or nil field is
// a filter that was not given.
type Query struct {
	Sources []Source // which upstreams the request needs, in AllSources order
	Makes   []string
	Models  []string
	Keyword string
	Van     bool // body_style=van

	YearMin, YearMax         int
	MileageMaxKm             *int
	PriceMinUSD, PriceMaxUSD *int
	Fuels, Transmissions     []string
	Colors, Options          []string
	AccidentGrades           []string
	ExteriorGrades           []string
	AuctionStatuses          []string
	AuctionDateFrom          time.Time // inclusive, Korean calendar day
	AuctionDateTo            time.Time // inclusive
	AuctionCountMin          *int
	AuctionCountMax          *int

	Sort  Sort
	Limit int
	// FXRate is won per dollar, for the price filters.
	FXRate float64

	// Where the page starts, from the cursor: the last row served (only its
	// sort keys and id are set), and for dealer sources the upstream
	// position from which it is safe to read on.
	After *Vehicle
	Hints map[Source]int
}

// Needs reports whether the query needs source s.
func (q Query) Needs(s Source) bool { return slices.Contains(q.Sources, s) }

// NeedsAuction reports whether the query includes any auction source.
func (q Query) NeedsAuction() bool { return slices.ContainsFunc(q.Sources, Source.IsAuction) }

// NeedsDealer reports whether the query includes any dealer source.
func (q Query) NeedsDealer() bool { return slices.ContainsFunc(q.Sources, Source.IsDealer) }

// AuctionOnly reports whether q has a filter only auction rows can satisfy
// (grades, auction status, dates or counts): dealer rows never match it.
func (q Query) AuctionOnly() bool {
	return len(q.AccidentGrades) > 0 || len(q.ExteriorGrades) > 0 || len(q.AuctionStatuses) > 0 ||
		!q.AuctionDateFrom.IsZero() || !q.AuctionDateTo.IsZero() || q.AuctionCountMin != nil || q.AuctionCountMax != nil
}

// Matches reports whether v satisfies every filter of q. Sources apply it to
// the rows they return, so a filter an upstream ignored never widens a result.
func (q Query) Matches(v *Vehicle) bool {
	switch {
	case len(q.Makes) > 0 && !containsFold(q.Makes, v.Make),
		len(q.Models) > 0 && !containsFold(q.Models, v.Model),
		q.Keyword != "" && !matchesKeyword(q.Keyword, v),
		q.Van && !IsVan(v),
		q.YearMin > 0 && v.Year < q.YearMin,
		q.YearMax > 0 && (v.Year == 0 || v.Year > q.YearMax),
		q.MileageMaxKm != nil && v.MileageKm > *q.MileageMaxKm,
		(q.PriceMinUSD != nil || q.PriceMaxUSD != nil) && v.PriceKRW <= 0,
		q.PriceMinUSD != nil && q.USD(v.PriceKRW) < *q.PriceMinUSD,
		q.PriceMaxUSD != nil && q.USD(v.PriceKRW) > *q.PriceMaxUSD,
		len(q.Fuels) > 0 && !slices.Contains(q.Fuels, v.Fuel),
		len(q.Transmissions) > 0 && !slices.Contains(q.Transmissions, v.Transmission),
		len(q.Colors) > 0 && !slices.Contains(q.Colors, v.Color),
		len(q.AccidentGrades) > 0 && !slices.Contains(q.AccidentGrades, v.AccidentGrade),
		len(q.ExteriorGrades) > 0 && !slices.Contains(q.ExteriorGrades, v.ExteriorGrade):
		return false
	}
	for _, o := range q.Options {
		if !slices.Contains(v.Options, o) {
			return false
		}
	}
	if len(q.AuctionStatuses) > 0 || !q.AuctionDateFrom.IsZero() || q.AuctionCountMin != nil || q.AuctionCountMax != nil {
		a := v.Auction
		if a == nil {
			return false
		}
		day := a.Date.In(KST)
		day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, KST)
		switch {
		case len(q.AuctionStatuses) > 0 && !slices.Contains(q.AuctionStatuses, a.Status),
			!q.AuctionDateFrom.IsZero() && day.Before(q.AuctionDateFrom),
			!q.AuctionDateTo.IsZero() && day.After(q.AuctionDateTo),
			q.AuctionCountMin != nil && a.Count < *q.AuctionCountMin,
			q.AuctionCountMax != nil && a.Count > *q.AuctionCountMax:
			return false
		}
	}
	return true
}

// USD converts won to whole dollars at q's rate.
func (q Query) USD(krw int64) int { return int(math.Round(float64(krw) / q.FXRate)) }

// matchesKeyword: every word of the keyword appears, case-insensitively, in
// the make, model or trim.
func matchesKeyword(kw string, v *Vehicle) bool {
	text := strings.ToLower(v.Make + " " + v.Model + " " + v.Trim)
	for _, w := range strings.Fields(strings.ToLower(kw)) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// vanWords are the words of model and trim text that mark a van: the van
// and minivan models themselves, and the words of cargo and two- or
// three-seat variants ("레이 밴", "카고 3인승"). A word is compared whole, so
// "Avante" is not a van for containing "van".
var vanWords = map[string]bool{
	"van": true, "밴": true, "cargo": true, "카고": true, "2인승": true, "3인승": true,
	"staria": true, "스타리아": true, "starex": true, "스타렉스": true, "carnival": true, "카니발": true,
	"solati": true, "쏠라티": true, "porter": true, "포터": true, "bongo": true, "봉고": true,
	"damas": true, "다마스": true, "labo": true, "라보": true, "master": true, "마스터": true,
}

// IsVan is the body_style=van heuristic. The model and trim are cut into
// words at anything that is not a letter or digit; the car is a van when a
// word, or a word without the generation number run into it ("포터2",
// "Porter2"), is one of vanWords.
func IsVan(v *Vehicle) bool {
	isWord := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	for _, w := range strings.FieldsFunc(strings.ToLower(v.Model+" "+v.Trim), isWord) {
		if vanWords[w] || vanWords[strings.TrimRight(w, "0123456789")] {
			return true
		}
	}
	return false
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
	if c := CompareKey(s, a, b); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// CompareKey orders a and b by the sort key alone, without the id
// tie-break: the order upstreams themselves can be asked for.
func CompareKey(s Sort, a, b *Vehicle) int {
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
	return c
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
