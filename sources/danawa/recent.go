package danawa

import (
	"container/list"
	"sync"

	"github.com/lmn/aggregator/vehicle"
)

// Remembered is where rows seen in searches are kept for detail
// requests: a Recent in this process, or one shared by a fleet.
type Remembered interface {
	Add(rows []vehicle.Vehicle)
	Get(id string) (vehicle.Vehicle, bool)
}

// Recent remembers the rows of recent searches, because Danawa has no detail
// page: a danawa_ id can only be answered from a row seen in a list. It holds
// at most its capacity and forgets the row seen least recently: a row that
// searches keep returning stays, however long ago it was first seen.
type Recent struct {
	mu       sync.Mutex
	capacity int
	rows     map[string]*list.Element // of vehicle.Vehicle
	order    *list.List               // most recently seen first
}

// NewRecent returns a cache of at most capacity rows.
func NewRecent(capacity int) *Recent {
	return &Recent{capacity: max(capacity, 1), rows: make(map[string]*list.Element, capacity), order: list.New()}
}

// Add remembers rows as just seen, replacing older copies of the same ids.
func (r *Recent) Add(rows []vehicle.Vehicle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range rows {
		if e, ok := r.rows[v.ID]; ok {
			e.Value = v
			r.order.MoveToFront(e)
			continue
		}
		if r.order.Len() >= r.capacity {
			oldest := r.order.Back()
			delete(r.rows, oldest.Value.(vehicle.Vehicle).ID)
			r.order.Remove(oldest)
		}
		r.rows[v.ID] = r.order.PushFront(v)
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
	r.order.MoveToFront(e)
	return e.Value.(vehicle.Vehicle), true
}
