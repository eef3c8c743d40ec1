package search

import (
	"context"
	"errors"
	"fmt"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// ErrNotFound is returned for an unknown or malformed id, and for a dealer ad
// that is no longer for sale.
var ErrNotFound = errors.New("vehicle not found")

// Vehicle returns one vehicle with its detail fields, from the source whose
// exact id pattern the id matches (a malformed id never reaches an
// upstream). outcome is set when an upstream was called.
func (s *Service) Vehicle(ctx context.Context, id string) (v vehicle.Vehicle, outcome *fanout.Outcome, err error) {
	d, ok := registry.ForID(id)
	if !ok || s.Details[d.Name] == nil {
		return vehicle.Vehicle{}, nil, ErrNotFound
	}
	v, outcome, err = s.Details[d.Name](ctx, id)
	switch {
	case err == nil:
		return v, outcome, nil
	case errors.Is(err, sources.ErrNotFound):
		return vehicle.Vehicle{}, outcome, fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, auction.ErrNotLoaded):
		return vehicle.Vehicle{}, outcome, &AuctionUnavailableError{Sources: []vehicle.Source{d.Name}}
	case outcome != nil && outcome.Err != nil:
		return vehicle.Vehicle{}, outcome, &DealersUnavailableError{Failed: []vehicle.Source{d.Name}}
	}
	return vehicle.Vehicle{}, outcome, err
}
