package danawa

import (
	"time"

	"github.com/lmn/aggregator/vehicle"
)

// A row's columns are read from the page's bytes in the form Danawa writes
// them ("2021", "79,959km", "3,750", "2025.06.12"), without a copy; a
// column in any other form is read by the general, strict readers, which
// decide what it means.

// digits reads b when it is all ASCII digits (at most 9 of them).
func digits(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// modelYear reads a model year, 19xx or 20xx.
func modelYear(b []byte) (int, bool) {
	n, ok := digits(b)
	if len(b) != 4 || !ok || !(b[0] == '1' && b[1] == '9' || b[0] == '2' && b[1] == '0') {
		return 0, false
	}
	return n, true
}

// wholeNumber reads "79,959" followed by unit, with nothing around it; false
// when b has any other form (sources.Quantity then reads it, or rejects
// it). It accepts nothing sources.Quantity would not read alike: digits
// grouped by three after a first group of one to three, or not grouped,
// and at most 15 characters.
func wholeNumber(b []byte, unit string) (int, bool) {
	if len(b) < len(unit) || string(b[len(b)-len(unit):]) != unit {
		return 0, false
	}
	b = b[:len(b)-len(unit)]
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	n, group := 0, -1 // digits since the last comma; -1 before any comma
	first := 0        // digits before the first comma
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			n = n*10 + int(c-'0')
			if group >= 0 {
				group++
			} else {
				first++
			}
		case c == ',':
			if group == -1 && (first == 0 || first > 3) || group >= 0 && group != 3 {
				return 0, false
			}
			group = 0
		default:
			return 0, false
		}
	}
	if group >= 0 && group != 3 {
		return 0, false
	}
	return n, true
}

// listedOn reads the day an ad was listed, "2025.06.12", in Korean time.
func listedOn(d []byte) (time.Time, bool) {
	if len(d) == 10 && d[4] == '.' && d[7] == '.' {
		y, ok1 := digits(d[:4])
		m, ok2 := digits(d[5:7])
		day, ok3 := digits(d[8:])
		if ok1 && ok2 && ok3 {
			// time.Date moves a day that does not exist ("02.30") to
			// another; ParseInLocation below rejects it.
			if t := time.Date(y, time.Month(m), day, 0, 0, 0, 0, vehicle.KST); int(t.Month()) == m && t.Day() == day {
				return t, true
			}
		}
	}
	t, err := time.ParseInLocation("2006.01.02", string(d), vehicle.KST)
	return t, err == nil
}
