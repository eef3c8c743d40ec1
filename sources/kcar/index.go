package kcar

import (
	"errors"
	"fmt"
	"time"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Index is an immutable snapshot of the K Car auction: every lot of the
// crawled pages. A crawl builds a new Index and swaps it in whole.
type Index = auction.Catalogue[Lot]

// NewIndex builds an index over lots.
func NewIndex(lots []Lot, builtAt time.Time) *Index {
	return auction.NewCatalogue(lots, func(l *Lot) vehicle.Vehicle { return l.Vehicle }, builtAt)
}

// ErrNotLoaded is a detail lookup before the index has loaded once.
var ErrNotLoaded = errors.New("kcar auction index not loaded yet")

// Vehicle is the detail of one K Car lot, from the index alone: the
// list answer holds every field K Car gives, and its detail page (which
// carries the consignor's name and registration number) is never read.
// An id that does not match IDPattern, or is not in the index, is
// sources.ErrNotFound; before the first load it is ErrNotLoaded.
// FetchedAt is when the index was built.
func (s *Store) Vehicle(id string) (vehicle.Vehicle, error) {
	if !IDPattern.MatchString(id) {
		return vehicle.Vehicle{}, fmt.Errorf("%w: %q is not a K Car id", sources.ErrNotFound, id)
	}
	ix := s.Index()
	if ix == nil {
		return vehicle.Vehicle{}, ErrNotLoaded
	}
	lot, ok := ix.Lot(id)
	if !ok {
		return vehicle.Vehicle{}, fmt.Errorf("%w: %s is not in the auction index", sources.ErrNotFound, id)
	}
	v := lot.Vehicle
	v.FetchedAt = ix.BuiltAt()
	return v, nil
}

// MinSnapshotLots is the fewest lots a restored snapshot must hold to be
// served. One lane of one weekly auction lists about a hundred cars; a
// snapshot with fewer than this was written by a crawl that went wrong,
// and serving it would make the instance ready with an auction that is
// not there.
const MinSnapshotLots = 20

// snapshotTemps is the pattern of the files a snapshot is written to
// before it is renamed into place (its own: Glovis' sweep must not take
// K Car's temporary files, nor the other way round).
const snapshotTemps = ".kcar-auction-*.tmp"
