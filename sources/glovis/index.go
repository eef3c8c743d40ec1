package glovis

import (
	"time"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/vehicle"
)

// Index is an immutable snapshot of the auction: every lot of the crawled
// rounds, with what a lot's detail page needs. A crawl builds a new Index
// and swaps it in whole.
type Index = auction.Catalogue[Lot]

// NewIndex builds an index over lots.
func NewIndex(lots []Lot, builtAt time.Time) *Index {
	return auction.NewCatalogue(lots, func(l *Lot) vehicle.Vehicle { return l.Vehicle }, builtAt)
}

// MinSnapshotLots is the fewest lots a restored snapshot must hold to be
// served. The auction lists thousands of lots a week; a snapshot with fewer
// was written by a crawl that went wrong, and serving it would make the
// instance ready with an auction that is not there.
const MinSnapshotLots = 50

// snapshotTemps is the pattern of the files a snapshot is written to before
// it is renamed into place.
const snapshotTemps = ".auction-*.tmp"
