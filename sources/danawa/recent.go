package danawa

import (
	"sync"

	"github.com/lmn/aggregator/vehicle"
)

// Recent remembers the rows of recent searches, because Danawa has no detail
// page: a danawa_ id can only be answered from a row seen in a list. It holds
// at most its capacity, forgetting the oldest first.
type Recent struct {
	mu    sync.Mutex
	rows  map[string]vehicle.Vehicle
	order []string // ring of ids, oldest at next
	next  int
}

// NewRecent returns a cache of at most capacity rows.
func NewRecent(capacity int) *Recent {
	return &Recent{rows: make(map[string]vehicle.Vehicle, capacity), order: make([]string, 0, max(capacity, 1))}
}

// Add remembers rows, replacing older copies of the same ids.
func (r *Recent) Add(rows []vehicle.Vehicle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range rows {
		if _, ok := r.rows[v.ID]; ok {
			r.rows[v.ID] = v
			continue
		}
		if len(r.order) < cap(r.order) {
			r.order = append(r.order, v.ID)
		} else {
			delete(r.rows, r.order[r.next])
			r.order[r.next] = v.ID
			r.next = (r.next + 1) % len(r.order)
		}
		r.rows[v.ID] = v
	}
}

// Get returns the row with id, if it was seen recently.
func (r *Recent) Get(id string) (vehicle.Vehicle, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.rows[id]
	return v, ok
}
