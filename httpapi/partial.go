package httpapi

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/search"
	"github.com/lmn/aggregator/vehicle"
)

// sourceFailure is why one dealer source was left out and when a retry may
// succeed: an entry of X-LMN-Partial-Dealer-Detail and of a 503's
// details.sources.
type sourceFailure struct {
	Source     string `json:"source"`
	Reason     string `json:"reason"`
	RetryAfter int    `json:"retry_after"` // whole seconds, at least 1
}

// reasonOf maps a failed outcome to the contract's fixed set of reasons
// (SPEC §5). It goes by the failure's kind (its metrics label), so no
// upstream text ever reaches a partner; a kind the table does not know is an
// upstream_error.
func reasonOf(o fanout.Outcome) string {
	switch o.Label() {
	case "rejected":
		return "breaker_open"
	case "overloaded":
		return "overloaded" // this instance was too busy to give the source its budget
	case "timeout", "canceled", "bulkhead_full": // a full bulkhead is full of calls its upstream is slow to answer
		return "timeout"
	case "connection":
		return "unreachable"
	case "blocked", "login":
		return "blocked"
	case "drift":
		return "drift"
	default: // http_5xx, oversize, not_found, error
		return "upstream_error"
	}
}

// failuresOf says why each of the failed sources failed, from their
// outcomes, in the order of failed (encar, danawa). A failed source without
// an outcome cannot happen today; should it, it reads as an upstream error
// with the short backoff rather than vanishing from the list.
func failuresOf(failed []vehicle.Source, outcomes []fanout.Outcome) []sourceFailure {
	out := make([]sourceFailure, 0, len(failed))
	for _, src := range failed {
		f := sourceFailure{Source: string(src), Reason: "upstream_error", RetryAfter: wholeSeconds(breaker.FailureBackoff)}
		if i := slices.IndexFunc(outcomes, func(o fanout.Outcome) bool { return o.Source == src && o.Err != nil }); i >= 0 {
			f.Reason, f.RetryAfter = reasonOf(outcomes[i]), wholeSeconds(outcomes[i].RetryAfter)
		}
		out = append(out, f)
	}
	return out
}

// wholeSeconds rounds up, so a partner retrying on time is not early, and
// never says 0: a breaker due to probe now is still worth a second's pause.
func wholeSeconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}

// partialDetail renders failures as an RFC 8941 list of tokens with
// parameters: `encar;reason=breaker_open;retry_after=27, danawa;…`. Source
// names and reasons are lower-case words with underscores, valid tokens.
func partialDetail(fs []sourceFailure) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Source)
		b.WriteString(";reason=")
		b.WriteString(f.Reason)
		b.WriteString(";retry_after=")
		b.WriteString(strconv.Itoa(f.RetryAfter))
	}
	return b.String()
}

// dealersDownError is a dealer-only request none of whose dealer sources
// answered, with why each failed.
type dealersDownError struct {
	failures []sourceFailure
}

// explainDealers gives a search.DealersUnavailableError the reasons its
// sources failed, from the request's outcomes; other errors pass unchanged.
func explainDealers(err error, outcomes []fanout.Outcome) error {
	var du *search.DealersUnavailableError
	if !errors.As(err, &du) {
		return err
	}
	return &dealersDownError{failures: append(failuresOf(du.Failed, outcomes), notLoaded(du.Unloaded)...)}
}

// notLoaded says of auction sources whose index has never loaded that they
// are unavailable, and when to try again: a first crawl takes seconds to
// minutes.
func notLoaded(srcs []vehicle.Source) []sourceFailure {
	out := make([]sourceFailure, len(srcs))
	for i, s := range srcs {
		out[i] = sourceFailure{Source: string(s), Reason: "not_loaded", RetryAfter: auctionRetryAfter}
	}
	return out
}

// allOverloaded reports whether every source failed for this instance's
// own overload, none for its upstream.
func (e *dealersDownError) allOverloaded() bool {
	for _, f := range e.failures {
		if f.Reason != "overloaded" {
			return false
		}
	}
	return len(e.failures) > 0
}

func (e *dealersDownError) Error() string {
	return "every needed dealer source failed: " + partialDetail(e.failures)
}
