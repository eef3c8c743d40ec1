package sources

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// groupedRe is how Korean pages write a whole number: "31,687", "2497" or
// "1,184". Anything else ("31.687", "3만", "1,18,4") is not read as a
// number at all, because reading its first digits gives a plausible wrong
// value (31 km) where the truth is "the page changed".
var groupedRe = regexp.MustCompile(`^(\d{1,3}(,\d{3})+|\d+)$`)

// Quantity reads page text such as " 31,687 km ", "2,497cc" or "총 1,184대"
// strictly: after trimming space and the given prefix and unit, what is
// left must be a whole number in comma-grouped or plain form. It reports
// false otherwise; callers treat that as drift, never as zero.
func Quantity(s, prefix, unit string) (int, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimPrefix(s, prefix))
	if unit != "" {
		var ok bool
		if s, ok = strings.CutSuffix(s, unit); !ok {
			return 0, false
		}
	}
	s = strings.TrimSpace(s)
	if !groupedRe.MatchString(s) || len(s) > 15 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	return n, err == nil
}

// Plausible prices, in won. A price outside them is a misread (won read
// as 만원, a price of 1, a phone number), not a car.
const (
	MinPriceKRW int64 = 300_000
	MaxPriceKRW int64 = 3_000_000_000
)

// CheckPrice returns drift when krw is not a plausible car price.
func CheckPrice(krw float64) error {
	switch {
	case math.IsNaN(krw) || math.IsInf(krw, 0):
		return Drift("price %v is not a number", krw)
	case krw < float64(MinPriceKRW) || krw > float64(MaxPriceKRW):
		return Drift("price ₩%.0f outside ₩%d..₩%d", krw, MinPriceKRW, MaxPriceKRW)
	}
	return nil
}

// MaxMileageKm is more than any car on sale has driven; more is a misread.
const MaxMileageKm = 2_000_000

// CheckMileage returns drift when km is not a plausible odometer reading.
func CheckMileage(km float64) error {
	if math.IsNaN(km) || math.IsInf(km, 0) || km < 0 || km > MaxMileageKm {
		return Drift("mileage %v km is not plausible", km)
	}
	return nil
}

// CheckYear returns drift when y is not a plausible model year.
func CheckYear(y int) error {
	if y < 1950 || y > 2100 {
		return Drift("model year %d is not plausible", y)
	}
	return nil
}
