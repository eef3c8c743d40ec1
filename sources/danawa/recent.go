package danawa

import (
	"sync"

	"github.com/lmn/aggregator/vehicle"
)

// Remembered is where rows seen in searches are kept for detail
// requests: a Recent in this process, or one shared by a fleet. Add keeps
// copies: the rows it is given may belong to a shared upstream answer.
type Remembered interface {
	Add(rows []*vehicle.Vehicle)
	Get(id string) (vehicle.Vehicle, bool)
}

// Recent remembers the rows of recent searches, because Danawa has no detail
// page: a danawa_ id can only be answered from a row seen in a list. It holds
// at most its capacity and forgets the row seen least recently: a row that
// searches keep returning stays, however long ago it was first seen.
//
// Every search adds its rows, so adding costs no allocation once the cache
// is full: a row seen again is overwritten in place, and a new row takes
// over the entry of the row it evicts.
type Recent struct {
	mu       sync.Mutex
	capacity int
	rows     map[string]*seen
	// newest and oldest end the list of entries, most recently seen first.
	newest, oldest *seen
}

// seen is one row in the order of sights.
type seen struct {
	v            vehicle.Vehicle
	newer, older *seen
}

// NewRecent returns a cache of at most capacity rows.
func NewRecent(capacity int) *Recent {
	return &Recent{capacity: max(capacity, 1), rows: make(map[string]*seen, capacity)}
}

// Add remembers copies of rows as just seen, replacing older copies of the
// same ids.
func (r *Recent) Add(rows []*vehicle.Vehicle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range rows {
		e, ok := r.rows[v.ID]
		switch {
		case ok:
			r.unlink(e)
		case len(r.rows) >= r.capacity:
			e = r.oldest
			r.unlink(e)
			delete(r.rows, e.v.ID)
			r.rows[v.ID] = e
		default:
			e = &seen{}
			r.rows[v.ID] = e
		}
		e.v = *v
		r.pushNewest(e)
	}
}

// Get returns the row with id, if it was seen recently. A detail view counts
// as a sight: the row a partner is looking at is kept.
func (r *Recent) Get(id string) (vehicle.Vehicle, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.rows[id]
	if !ok {
		return vehicle.Vehicle{}, false
	}
	r.unlink(e)
	r.pushNewest(e)
	return e.v, true
}

func (r *Recent) unlink(e *seen) {
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		r.newest = e.older
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		r.oldest = e.newer
	}
	e.newer, e.older = nil, nil
}

func (r *Recent) pushNewest(e *seen) {
	e.older = r.newest
	if r.newest != nil {
		r.newest.newer = e
	}
	r.newest = e
	if r.oldest == nil {
		r.oldest = e
	}
}
