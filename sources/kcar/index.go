package kcar

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Index is an immutable snapshot of the K Car auction: every lot of the
// crawled pages, with one precomputed order per sort so a search is a
// filtered walk. A crawl builds a new Index and swaps it in whole. It has
// the methods of Glovis' index, so both serve behind one interface.
type Index struct {
	lots    []Lot
	rows    []vehicle.Vehicle
	byID    map[string]int
	orders  map[vehicle.Sort][]int32
	builtAt time.Time
}

// NewIndex builds an index over lots.
func NewIndex(lots []Lot, builtAt time.Time) *Index {
	rows := make([]vehicle.Vehicle, len(lots))
	for i := range lots {
		rows[i] = lots[i].Vehicle
	}
	ix := &Index{lots: lots, rows: rows, byID: make(map[string]int, len(rows)), orders: map[vehicle.Sort][]int32{}, builtAt: builtAt}
	for i := range rows {
		ix.byID[rows[i].ID] = i
	}
	for _, s := range vehicle.Sorts {
		order := make([]int32, len(rows))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return vehicle.Compare(s, &rows[a], &rows[b]) })
		ix.orders[s] = order
	}
	return ix
}

// Len is the number of lots.
func (ix *Index) Len() int { return len(ix.rows) }

// BuiltAt is when the crawl that built the index finished.
func (ix *Index) BuiltAt() time.Time { return ix.builtAt }

// Search returns up to limit lots matching q, in q's sort order, starting
// after the row `after` when it is not nil. The second result reports
// whether more lots match.
func (ix *Index) Search(q vehicle.Query, after *vehicle.Vehicle, limit int) ([]vehicle.Vehicle, bool) {
	order := ix.orders[q.Sort]
	if order == nil {
		order = ix.orders[vehicle.SortAuctionDateAsc]
	}
	start := 0
	if after != nil {
		var found bool
		start, found = slices.BinarySearchFunc(order, after, func(i int32, t *vehicle.Vehicle) int {
			return vehicle.Compare(q.Sort, &ix.rows[i], t)
		})
		if found {
			start++ // the row itself was served on the previous page
		}
	}
	out := make([]vehicle.Vehicle, 0, min(limit, 64))
	for _, i := range order[start:] {
		v := &ix.rows[i]
		if !q.Matches(v) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, *v)
	}
	return out, false
}

// Rows returns every lot's vehicle in index order. The slice must not be
// modified.
func (ix *Index) Rows() []vehicle.Vehicle { return ix.rows }

// Lot returns the lot with the given id.
func (ix *Index) Lot(id string) (Lot, bool) {
	i, ok := ix.byID[id]
	if !ok {
		return Lot{}, false
	}
	return ix.lots[i], true
}

// Lots returns every lot. The slice must not be modified.
func (ix *Index) Lots() []Lot { return ix.lots }

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

// removeStaleTemps deletes temporary snapshot files a crashed write left
// beside snapshot. Files touched in the last minute are left alone:
// another process may be writing one.
func removeStaleTemps(snapshot string, now time.Time) (removed int, err error) {
	names, err := filepath.Glob(filepath.Join(filepath.Dir(snapshot), snapshotTemps))
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, name := range names {
		fi, err := os.Stat(name)
		if err != nil || now.Sub(fi.ModTime()) < time.Minute {
			continue
		}
		if err := os.Remove(name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}
