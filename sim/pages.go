package sim

import (
	"net/http"
	"sync"
)

// listPages remembers the dealer list answers already rendered. The dealer
// inventory is fixed when the simulator is made, so a list answer depends
// on its URL alone (and on whether the source drifts); rendering it again
// for every call made the simulator, not the service, the costliest process
// of a load run on a shared machine. Faults and latency are applied to
// every call as before: only the rendering is saved. Bounded: at most
// maxListPages answers and maxListBytes of them, all dropped when full.
//
// Should dealer listings ever change while the simulator runs, whatever
// changes them must clear this memo.
type listPages struct {
	mu       sync.Mutex
	m        map[string]page
	bytes    int // of the bodies in m
	maxBytes int // maxListBytes when 0
}

const (
	maxListPages = 512
	maxListBytes = 64 << 20 // a 500-row Encar answer is about 370 KB
)

// get returns the answer to r from the memo, rendering it with render the
// first time.
func (p *listPages) get(r *http.Request, drift bool, render func() page) page {
	key := r.URL.Path + "?" + r.URL.RawQuery
	if drift {
		key = "drift " + key
	}
	p.mu.Lock()
	pg, ok := p.m[key]
	p.mu.Unlock()
	if ok {
		return pg
	}
	pg = render()
	p.mu.Lock()
	limit := p.maxBytes
	if limit == 0 {
		limit = maxListBytes
	}
	if p.m == nil || len(p.m) >= maxListPages || p.bytes+len(pg.body) > limit {
		p.m, p.bytes = make(map[string]page), 0
	}
	if _, ok := p.m[key]; !ok { // two callers may render the same page at once
		p.bytes += len(pg.body)
	}
	p.m[key] = pg
	p.mu.Unlock()
	return pg
}
