package search

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// ErrNotFound is returned for an unknown or malformed id, and for a dealer ad
// that is no longer for sale.
var ErrNotFound = errors.New("vehicle not found")

// Ids must match their prefix's pattern exactly before anything is looked
// up, so a malformed id never reaches an upstream.
var (
	// Numbers are written without leading zeros, as ids are minted:
	// encar_0039000008 is not another spelling of encar_39000008 (SPEC §3.2).
	glovisID = regexp.MustCompile(`^glovis_\d{8}_(1100|2100|3100|5100)_[1-9]\d{0,4}$`)
	encarID  = regexp.MustCompile(`^encar_[1-9]\d{0,11}$`)
	danawaID = regexp.MustCompile(`^danawa_[A-Za-z0-9_-]{1,64}$`)
)

// Vehicle returns one vehicle with its detail fields. Encar is asked live
// under its breaker; Glovis lots come from the index, enriched from their
// detail page when Glovis answers; Danawa rows come from recent searches.
// outcome is set when an upstream was called.
func (s *Service) Vehicle(ctx context.Context, id string) (v vehicle.Vehicle, outcome *fanout.Outcome, err error) {
	switch {
	case encarID.MatchString(id):
		o := s.Fanout.Call(ctx, fanout.Task{Source: vehicle.Encar, Run: func(ctx context.Context) (err error) {
			v, err = s.Encar.Detail(ctx, strings.TrimPrefix(id, "encar_"))
			if errors.Is(err, sources.ErrNotFound) {
				// Not for sale says nothing bad about Encar's health.
				return nil
			}
			return err
		}})
		switch {
		case o.Err != nil:
			return vehicle.Vehicle{}, &o, &DealersUnavailableError{Failed: []vehicle.Source{vehicle.Encar}}
		case v.ID == "":
			return vehicle.Vehicle{}, &o, ErrNotFound
		}
		v.FetchedAt = time.Now()
		return v, &o, nil

	case glovisID.MatchString(id):
		ix := s.Auction.Index()
		if ix == nil {
			return vehicle.Vehicle{}, nil, ErrAuctionUnavailable
		}
		lot, ok := ix.Lot(id)
		if !ok {
			return vehicle.Vehicle{}, nil, ErrNotFound
		}
		v = lot.Vehicle
		if kept, ok := s.enriched.get(id, ix.BuiltAt()); ok {
			v = kept
		} else if v.VIN == "" && s.Glovis != nil && lot.GN != "" {
			o := s.Enrich.Call(ctx, fanout.Task{Source: vehicle.Glovis, Run: func(ctx context.Context) error {
				d, err := s.Glovis.Detail(ctx, lot)
				if err != nil {
					return err
				}
				v = enrich(v, d)
				return nil
			}})
			if o.Err == nil {
				s.enriched.put(v, ix.BuiltAt())
			}
			// A Glovis outage leaves the index row as it is: auction answers
			// never depend on Glovis being up.
			outcome = &o
		}
		v.FetchedAt = ix.BuiltAt()
		return v, outcome, nil

	case danawaID.MatchString(id):
		v, ok := s.Recent.Get(id)
		if !ok {
			return vehicle.Vehicle{}, nil, fmt.Errorf("%w: not seen in a recent search", ErrNotFound)
		}
		return v, nil, nil
	}
	return vehicle.Vehicle{}, nil, ErrNotFound
}
