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

// Words of model and trim text for body_style=van (SPEC §3.1: cargo and
// two-seat variants; passenger minivans and trucks are not vans). A word is
// compared whole, so "Avante" is not a van for containing "van".
var (
	// vanWords name a cargo body whatever the model: "레이 밴", "스타리아
	// 카고", "Morning Van".
	vanWords = map[string]bool{"van": true, "밴": true, "cargo": true, "카고": true, "패널밴": true}
	// vanSeats are seat counts only a van has: no passenger car seats
	// fewer than four.
	vanSeats = map[string]bool{"2인승": true, "3인승": true}
	// vanBodySeats are seat counts that name the van variant of a model
	// built as both a van and a people carrier (Staria Cargo 5인승, Grand
	// Starex 밴 6인승); on any other model they are a passenger car's.
	vanBodySeats = map[string]bool{"5인승": true, "6인승": true}
	vanBodies    = map[string]bool{
		"staria": true, "스타리아": true, "starex": true, "스타렉스": true, "grand starex": true, "그랜드스타렉스": true,
		"master": true, "마스터": true, "damas": true, "다마스": true,
	}
	// trucks are never vans, whatever their trim says (a 3-seat cab).
	trucks = map[string]bool{
		"porter": true, "포터": true, "bongo": true, "봉고": true, "labo": true, "라보": true,
		"mighty": true, "마이티": true, "libero": true, "리베로": true,
	}
)

// IsVan is the body_style=van heuristic. The model and trim are cut into
// words at anything that is not a letter or digit (a word with a generation
// number run into it, "포터2", counts as the word without it). A truck
// (Porter, Bongo, Labo) is never a van. Anything else is one when a word
// names a cargo body (van, 밴, cargo, 카고), or two or three seats; five or
// six seats make a van only of a model built as both (Staria, Starex,
// Master, Damas). So Staria Tourer 9인승, Carnival 7인승 and Starex 왜건
// 12인승 are not vans; Staria 카고 5인승 and Ray 밴 are.
func IsVan(v *Vehicle) bool {
	model := strings.ToLower(strings.TrimSpace(v.Model))
	isWord := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	modelWords := strings.FieldsFunc(model, isWord)
	body := vanBodies[model]
	for _, w := range modelWords {
		w = strings.TrimRight(w, "0123456789")
		if trucks[w] {
			return false
		}
		body = body || vanBodies[w]
	}
	for _, w := range append(modelWords, strings.FieldsFunc(strings.ToLower(v.Trim), isWord)...) {
		bare := strings.TrimRight(w, "0123456789")
		if vanWords[w] || vanWords[bare] || vanSeats[w] || body && vanBodySeats[w] {
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
