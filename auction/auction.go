// Package auction is what the service needs from an auction house (Glovis,
// K Car, and any later one): an in-memory index of its lots that a crawler
// of its own refreshes in the background and snapshots, and a detail
// lookup. Each auction implements Source in its own package; search merges
// any set of them with the dealers and never names one.
package auction

import (
	"context"
	"errors"
	"time"

	"github.com/lmn/aggregator/fanout"
	"github.com/lmn/aggregator/vehicle"
)

// ErrNotLoaded is a lookup in an auction whose index has never loaded
// (first start, no snapshot, upstream down).
var ErrNotLoaded = errors.New("auction index not loaded yet")

// Index is one crawl's lots, immutable once built.
type Index interface {
	// Search returns up to limit rows matching q in q's sort order, after
	// the row after when it is not nil (only its sort keys and id are
	// set), and whether more rows match.
	Search(q vehicle.Query, after *vehicle.Vehicle, limit int) ([]vehicle.Vehicle, bool)
	// Rows returns every row in index order; the slice must not be modified.
	Rows() []vehicle.Vehicle
	Len() int
	// BuiltAt is when the crawl that built the index finished.
	BuiltAt() time.Time
}

// Status is what readiness and on-call see of one auction's index.
type Status struct {
	Loaded       bool
	Rows         int
	BuiltAt      time.Time
	LastError    string
	LastErrAt    time.Time
	Failures     int64 // failed crawls since the process started
	DetailErrors int64 // detail pages not read since the process started
	// SnapshotFailures counts snapshots not written (disk full, no
	// permission) since the process started: a restart would come up
	// without an index.
	SnapshotFailures int64
}

// Source is one auction house: its index, the crawler that refreshes it,
// the snapshot it is saved to, and the detail of one lot.
type Source interface {
	// Source names the auction.
	Source() vehicle.Source
	// Index is the index in service; nil before the first load.
	Index() Index
	Status() Status
	// Vehicle returns the lot with id (already matched against the
	// source's id pattern) with its detail fields: sources.ErrNotFound for
	// a lot the index does not hold, ErrNotLoaded before the first load.
	// outcome is set when an upstream was called on the way.
	Vehicle(ctx context.Context, id string) (v vehicle.Vehicle, outcome *fanout.Outcome, err error)

	// Run crawls until ctx ends: at once, then every CrawlInterval. A failed
	// crawl keeps the previous index.
	Run(ctx context.Context)
	// Refresh crawls once and swaps the new index in.
	Refresh(ctx context.Context) error
	// CrawlInterval is the time between successful crawls.
	CrawlInterval() time.Duration
	// Restore loads the snapshot, if there is one.
	Restore() error
	// Export is the index in service in the snapshot's form, with what the
	// next crawl needs to go on from it, for replicas that do not crawl;
	// nil before the first load. Import swaps in what another replica
	// exported.
	Export() ([]byte, error)
	Import(data []byte) error
}
