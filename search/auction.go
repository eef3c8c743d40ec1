package search

import (
	"github.com/lmn/aggregator/sources/glovis"
	"github.com/lmn/aggregator/vehicle"
)

// AuctionStatus is what readiness and on-call see of the auction index, so
// the HTTP layer can report it without knowing where the index comes from.
type AuctionStatus = glovis.Status

// AuctionRows returns every lot of the auction index in service, nil before
// it has loaded. The slice must not be modified.
func (s *Service) AuctionRows() []vehicle.Vehicle {
	if ix := s.Auction.Index(); ix != nil {
		return ix.Rows()
	}
	return nil
}
