package search

import (
	"github.com/lmn/aggregator/vehicle"
)

// cannotMatch says whether no list row of source can satisfy q: its list
// rows never carry a field q filters on (a row whose value is unknown does
// not match a filter on it). Such a source is not read at all, rather than
// read page after page to find nothing.
//
//	Encar list rows: no colour, no options.
//	Danawa list rows: no transmission, no colour, no options.
func cannotMatch(source vehicle.Source, q vehicle.Query) bool {
	switch source {
	case vehicle.Encar:
		return len(q.Colors) > 0 || len(q.Options) > 0
	case vehicle.Danawa:
		return len(q.Transmissions) > 0 || len(q.Colors) > 0 || len(q.Options) > 0
	}
	return false
}
