package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/lmn/aggregator/cursor"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/paging"
	"github.com/lmn/aggregator/search"
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
		binding, requested := paging.Binding(q), sourceList(q.Sources)
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
			paging.Apply(&q, st)
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
		if len(res.AuctionUnavailable) > 0 {
			setLMNHeader(w, "X-LMN-Partial-Auction-Unavailable", sourceList(res.AuctionUnavailable))
		}
		var next *string
		if res.More {
			st := paging.Next(q, res.Page, res.FailedDealers, binding, requested)
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
