package glovis

import (
	"sync"
	"time"

	"github.com/lmn/aggregator/vehicle"
)

// maxEnriched bounds the lots kept after a detail read on request: about
// 8 MB at 2 KB a row.
const maxEnriched = 4096

// enrichedLots keeps the auction lots whose detail page was read for a
// request, so a page read once is not read again while the index it
// completes is in service. A new index (whose crawl read the pages itself)
// empties it. The zero value is ready to use.
type enrichedLots struct {
	mu      sync.Mutex
	builtAt time.Time
	rows    map[string]vehicle.Vehicle
}

func (e *enrichedLots) get(id string, builtAt time.Time) (vehicle.Vehicle, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.builtAt.Equal(builtAt) {
		return vehicle.Vehicle{}, false
	}
	v, ok := e.rows[id]
	return v, ok
}

func (e *enrichedLots) put(v vehicle.Vehicle, builtAt time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.builtAt.Equal(builtAt) || len(e.rows) >= maxEnriched {
		// Lots of another index, or too many: start again rather than grow.
		e.builtAt, e.rows = builtAt, make(map[string]vehicle.Vehicle)
	}
	e.rows[v.ID] = v
}
