// Package merge combines the already-sorted rows of several sources into one
// page: a k-way merge, the removal of cars listed on two dealer sites, and
// the cut at the page size.
package merge

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/lmn/aggregator/vehicle"
)

// Page merges lists, each already in s order, and returns copies of the
// first limit rows. more reports whether any list had rows past the cut.
// The lists hold pointers so that only the rows of the page are copied.
func Page(s vehicle.Sort, limit int, lists ...[]*vehicle.Vehicle) (page []vehicle.Vehicle, more bool) {
	heads := make([]int, len(lists))
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	page = make([]vehicle.Vehicle, 0, min(limit, total))
	for len(page) < limit {
		best := -1
		for i, l := range lists {
			if heads[i] < len(l) && (best < 0 || vehicle.Compare(s, l[heads[i]], lists[best][heads[best]]) < 0) {
				best = i
			}
		}
		if best < 0 {
			return page, false
		}
		page = append(page, *lists[best][heads[best]])
		heads[best]++
	}
	for i, l := range lists {
		if heads[i] < len(l) {
			return page, true
		}
	}
	return page, false
}

// AppendKey appends to b the key that identifies a physical car across
// dealer sites: the same car advertised on Encar and Danawa has the same
// make, model, year, mileage and price. Appended, so that with a buffer
// used again, looking a key up in a map costs no allocation.
func AppendKey(b []byte, v *vehicle.Vehicle) []byte {
	b = appendLower(b, v.Make)
	b = append(b, '|')
	b = appendLower(b, v.Model)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(v.Year), 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(v.MileageKm), 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, v.PriceKRW, 10)
	return b
}

// appendLower appends strings.ToLower(s) to b without making a string.
func appendLower(b []byte, s string) []byte {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b = append(b, byte(r))
			continue
		}
		b = utf8.AppendRune(b, unicode.ToLower(r))
	}
	return b
}

// Before returns the rows, in order, that sort by key strictly before
// frontier, and whether any was held back. A source whose reading stopped
// short knows only the rows before its frontier: a row past it could still
// be preceded by one not yet read, so it waits for a later page. A nil
// frontier holds nothing back.
func Before(s vehicle.Sort, frontier *vehicle.Vehicle, rows []*vehicle.Vehicle) (kept []*vehicle.Vehicle, held bool) {
	if frontier == nil {
		return rows, false
	}
	kept = rows[:0:0]
	for i := range rows {
		if vehicle.CompareKey(s, rows[i], frontier) < 0 {
			kept = append(kept, rows[i])
		} else {
			held = true
		}
	}
	return kept, held
}

// Earliest returns whichever of a and b sorts first by key; nil stands for
// no bound and loses to any.
func Earliest(s vehicle.Sort, a, b *vehicle.Vehicle) *vehicle.Vehicle {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case vehicle.CompareKey(s, b, a) < 0:
		return b
	}
	return a
}
