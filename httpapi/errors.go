package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/search"
	"github.com/lmn/aggregator/vehicle"
)

// Error is an error with its place in the public contract: the HTTP status,
// the stable code and the details object of the error envelope.
type Error struct {
	Status  int
	Code    string
	Message string
	Details map[string]any
	// RetryAfter, in seconds, is sent as Retry-After when positive.
	RetryAfter int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Issue is one problem with a request parameter.
type Issue struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func validationError(issues []Issue) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "validation_error", Message: "the request has invalid parameters",
		Details: map[string]any{"issues": capIssues(issues)}}
}

var (
	errNotFound         = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such route"}
	errMethodNotAllowed = &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed on this route"}
	errMissingKey       = &Error{Status: http.StatusUnauthorized, Code: "missing_api_key", Message: "the x-api-key header is required"}
	errInvalidKey       = &Error{Status: http.StatusUnauthorized, Code: "invalid_api_key", Message: "the API key is not valid"}
	errVehicleNotFound  = &Error{Status: http.StatusNotFound, Code: "vehicle_not_found", Message: "no vehicle with that id"}
	errInternal         = &Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: "internal error"}
)

// auctionRetryAfter is the Retry-After of an auction index that has not
// loaded: a first crawl takes seconds to minutes.
const auctionRetryAfter = 10

// mixedPagination refuses a cursor on a request that mixes auction and
// dealer sources. details.restart names the queries to page instead, one
// per kind, of exactly the sources requested: dealer only when both dealer
// sources were asked for, otherwise the one that was.
func mixedPagination(srcs []vehicle.Source) *Error {
	var restart []map[string]string
	var auctions, dealers []vehicle.Source
	for _, s := range srcs {
		if s.IsDealer() {
			dealers = append(dealers, s)
		} else {
			auctions = append(auctions, s)
		}
	}
	if len(auctions) > 0 {
		// Any set of auction sources pages to its end together.
		restart = append(restart, map[string]string{"source": sourceList(auctions)})
	}
	switch {
	case len(dealers) == len(vehicle.DealerSources()):
		restart = append(restart, map[string]string{"source": registry.DealerAlias})
	default:
		for _, s := range dealers {
			restart = append(restart, map[string]string{"source": string(s)})
		}
	}
	return &Error{Status: http.StatusBadRequest, Code: "mixed_source_pagination_unsupported",
		Message: "pagination across auction and dealer sources is not supported; page each kind separately",
		Details: map[string]any{"restart": restart}}
}

// toError maps every error a handler can return to its contract error. This
// table is the one place statuses are decided.
func toError(err error) *Error {
	var e *Error
	var dd *dealersDownError
	var au *search.AuctionUnavailableError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &dd) && dd.allOverloaded():
		// Every source failed because this instance was starved, as
		// measured: the upstreams are not unavailable, this instance is.
		return errStarved
	case errors.As(err, &dd):
		// Retry-After is the soonest any of them may answer again: one
		// source back is enough for a 200.
		// failed_sources are the dealers; sources also names any auction
		// index the request needed that has not loaded.
		failed, retry := []string{}, 0
		for _, f := range dd.failures {
			if vehicle.Source(f.Source).IsDealer() {
				failed = append(failed, f.Source)
			}
			if retry == 0 || f.RetryAfter < retry {
				retry = f.RetryAfter
			}
		}
		return &Error{Status: http.StatusServiceUnavailable, Code: "dealer_upstream_unavailable",
			Message: "every dealer source this request needs is unavailable", RetryAfter: retry,
			Details: map[string]any{"failed_sources": failed, "sources": dd.failures}}
	case errors.Is(err, search.ErrNotFound):
		return errVehicleNotFound
	case errors.As(err, &au):
		return &Error{Status: http.StatusServiceUnavailable, Code: "auction_index_unavailable",
			Message: "the auction index has not loaded yet", RetryAfter: auctionRetryAfter, Details: map[string]any{"sources": notLoaded(au.Sources)}}
	default:
		return errInternal
	}
}

// writeError writes the error envelope. Errors without a contract code are
// logged with the request id and answered with a bare internal_error.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := toError(err)
	if e == errInternal && log != nil && !errors.Is(err, context.Canceled) {
		log.ErrorContext(r.Context(), "internal error", "request_id", requestID(r.Context()), "err", err)
	}
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]any{
		"code": e.Code, "message": e.Message, "request_id": requestID(r.Context()), "details": details,
	}})
}
