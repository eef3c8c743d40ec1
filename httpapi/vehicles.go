package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/search"
	"github.com/lmn/aggregator/vehicle"
)

// handleSearch serves GET /v1/vehicles.
func handleSearch(d Deps) http.HandlerFunc {
	log, svc, codec, fx := d.Log, d.Search, d.Cursors, d.FXRate
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := parseSearch(r.URL.Query(), fx)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		// A cursor is bound to the partner too: one partner's cursors are
		// no use to another, and say so (partner_mismatch).
		binding, requested := bindingOf(q), sourceList(q.Sources)
		partner := cursor.Digest("partner=" + partnerOf(r.Context()))
		// An empty cursor= is a cursor that does not decode, not a request
		// for page 1: every other empty value is refused too.
		if raws, sent := r.URL.Query()["cursor"]; sent {
			raw := raws[0]
			// Checked before the cursor is decoded: no cursor makes a mixed
			// request pageable.
			if q.NeedsAuction() && q.NeedsDealer() {
				writeError(w, r, log, mixedPagination(q.Sources))
				return
			}
			st, err := codec.Decode(raw, partner, string(q.Sort), binding, requested)
			if err != nil {
				var ce *cursor.Error
				if errors.As(err, &ce) {
					err = &Error{Status: http.StatusBadRequest, Code: "invalid_cursor", Message: "the cursor is not valid for this request: " + ce.Reason,
						Details: map[string]any{"reason": ce.Reason}}
				}
				writeError(w, r, log, err)
				return
			}
			applyCursor(&q, st)
		}
		res, err := svc.Search(r.Context(), q)
		if res != nil {
			noteOutcomes(r.Context(), res.Outcomes)
		}
		if err != nil {
			var du *search.DealersUnavailableError
			if errors.As(err, &du) {
				d.Metrics.DealersUnavailable()
				err = explainDealers(err, res.Outcomes)
			}
			writeError(w, r, log, err)
			return
		}
		if len(res.FailedDealers) > 0 {
			d.Metrics.Partial(res.FailedDealers)
			setLMNHeader(w, "X-LMN-Partial-Dealer-Unavailable", sourceList(res.FailedDealers))
			setLMNHeader(w, "X-LMN-Partial-Dealer-Detail", partialDetail(failuresOf(res.FailedDealers, res.Outcomes)))
		}
		if q.AuctionOnly() && q.NeedsDealer() && res.FilteredOut >= 0 {
			setLMNHeader(w, "X-LMN-Filtered-Out", fmt.Sprintf("dealer=%d", res.FilteredOut))
		}
		if res.AuctionUnavailable {
			setLMNHeader(w, "X-LMN-Partial-Auction-Unavailable", "glovis")
		}
		var next *string
		if res.More {
			st := nextState(q, res, binding, requested)
			st.Partner = partner
			c := codec.Encode(st)
			next = &c
		}
		writeList(w, res.Rows, fx, next)
	}
}

// setLMNHeader sets one of the X-LMN-* headers spelled as the contract
// spells them: Header.Set would send X-Lmn-…, which is the same header to
// HTTP but not to a partner grepping logs.
func setLMNHeader(w http.ResponseWriter, name, value string) {
	w.Header()[name] = []string{value}
}

// bindingOf digests every filter a cursor is bound to (not the limit: a
// partner may change the page size between pages).
func bindingOf(q vehicle.Query) string {
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

func applyCursor(q *vehicle.Query, st cursor.State) {
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
			if slices.Contains(st.Pinned, string(s)) {
				pinned = append(pinned, s)
			}
		}
		q.Sources = pinned
	}
}

// nextState is where the page after res starts: after the position the
// search reports (the last row served, or how far every source has been
// read when a page was cut short), with each dealer source's resume
// position and the dealer sources that answered (a source down on page 1
// is not mixed back in later).
func nextState(q vehicle.Query, res *search.Result, binding, requested string) cursor.State {
	st := cursor.State{Sort: string(q.Sort), Query: binding, Sources: requested}
	if last := res.After; last != nil {
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
	for s, n := range res.Hints {
		st.Hints[string(s)] = n
	}
	for _, s := range q.Sources {
		if s.IsDealer() && !slices.Contains(res.FailedDealers, s) {
			st.Pinned = append(st.Pinned, string(s))
		}
	}
	return st
}

// handleVehicle serves GET /v1/vehicles/{id}.
func handleVehicle(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Query()) > 0 {
			writeError(w, r, d.Log, validationError([]Issue{{Path: firstKey(r.URL.Query()), Message: "this endpoint takes no parameters"}}))
			return
		}
		v, outcome, err := d.Search.Vehicle(r.Context(), r.PathValue("id"))
		var outcomes []fanout.Outcome
		if outcome != nil {
			outcomes = []fanout.Outcome{*outcome}
			noteOutcomes(r.Context(), outcomes)
		}
		if err != nil {
			writeError(w, r, d.Log, explainDealers(err, outcomes))
			return
		}
		body := detail(&v, d.FXRate)
		w.Header().Set("ETag", detailTag(body))
		writeJSON(w, http.StatusOK, body)
	}
}

// detailTag is a detail answer's ETag: a digest of everything but
// fetched_at, which moves on every live Encar read (and every crawl) while
// the car stays the same. A 304 means every other field is unchanged.
func detailTag(d detailJSON) string {
	d.FetchedAt = nil
	b, _ := json.Marshal(d) // detailJSON has only marshalable fields
	return weakTag(b)
}

func firstKey(v map[string][]string) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[0]
}
