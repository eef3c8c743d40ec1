package search

import (
	"slices"

	"github.com/lmn/aggregator/vehicle"
)

// AuctionRows returns every lot of the indexes in service of the auction
// sources in srcs (none for an index that has not loaded). The slices must
// not be modified.
func (s *Service) AuctionRows(srcs []vehicle.Source) [][]vehicle.Vehicle {
	var out [][]vehicle.Vehicle
	for _, a := range s.Auctions {
		if ix := a.Index(); ix != nil && slices.Contains(srcs, a.Source()) {
			out = append(out, ix.Rows())
		}
	}
	return out
}
