package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lmn/aggregator/vehicle"
)

// A search page is the hot path: encoding/json spends most of a 200-row
// page's time in reflection, so list pages are appended by hand. A test
// holds the output byte for byte to encoding/json's (HTML escaping off).

// writeList writes a search page straight from the rows, without building
// the intermediate summaryJSON values.
func writeList(w http.ResponseWriter, rows []vehicle.Vehicle, rate float64, next *string) {
	buf := listBuffers.Get().(*[]byte)
	b := append((*buf)[:0], `{"data":[`...)
	for i := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSummary(b, &rows[i], rate)
	}
	b = append(b, `],"next_cursor":`...)
	b = appendNullString(b, next)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b) // a Writer never keeps what it is given
	if cap(b) <= maxListBuffer {
		*buf = b
		listBuffers.Put(buf)
	}
}

// listBuffers hold search pages while they are written: a 50-row page is
// about 24 KB, and every request wrote one into a new buffer. A buffer
// grown past maxListBuffer by a rare huge page is left to the collector.
var listBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxListBuffer = 1 << 20

// appendSummary appends v in the VehicleSummary shape; it says what
// summary() says, field for field.
func appendSummary(b []byte, v *vehicle.Vehicle, rate float64) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, v.ID)
	if v.Source.IsDealer() {
		b = append(b, `,"source":"dealer","dealer_source":`...)
		b = appendString(b, string(v.Source))
	} else {
		b = append(b, `,"source":`...)
		b = appendString(b, string(v.Source))
		b = append(b, `,"dealer_source":null`...)
	}
	b = append(b, `,"make":`...)
	b = appendString(b, v.Make)
	b = append(b, `,"model":`...)
	b = appendString(b, v.Model)
	b = append(b, `,"trim":`...)
	b = appendOptString(b, v.Trim)
	b = append(b, `,"year":`...)
	b = strconv.AppendInt(b, int64(v.Year), 10)
	b = append(b, `,"mileage_km":`...)
	b = strconv.AppendInt(b, int64(v.MileageKm), 10)
	b = append(b, `,"fuel":`...)
	b = appendOptString(b, v.Fuel)
	b = append(b, `,"transmission":`...)
	b = appendOptString(b, v.Transmission)
	b = append(b, `,"color":`...)
	b = appendOptString(b, v.Color)
	b = append(b, `,"engine_cc":`...)
	if v.EngineCC > 0 {
		b = strconv.AppendInt(b, int64(v.EngineCC), 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"drivetrain":`...)
	b = appendOptString(b, v.Drivetrain)
	b = append(b, `,"options":[`...)
	for i, o := range v.Options {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, o)
	}
	b = append(b, `],"accident_grade":`...)
	b = appendOptString(b, v.AccidentGrade)
	b = append(b, `,"exterior_grade":`...)
	b = appendOptString(b, v.ExteriorGrade)
	b = append(b, `,"auction":`...)
	if a := v.Auction; a == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"date":`...)
		if a.Date.IsZero() {
			b = append(b, `""`...)
		} else {
			b = appendTime(b, a.Date)
		}
		b = append(b, `,"site":`...)
		b = appendString(b, a.Site)
		b = append(b, `,"lot_number":`...)
		b = strconv.AppendInt(b, int64(a.LotNumber), 10)
		b = append(b, `,"round":`...)
		if a.Round > 0 {
			b = strconv.AppendInt(b, int64(a.Round), 10)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, `,"status":`...)
		b = appendString(b, a.Status)
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(a.Count), 10)
		b = append(b, '}')
	}
	b = append(b, `,"pricing":{"listing_price":`...)
	if v.PriceKRW > 0 {
		b = strconv.AppendInt(b, int64(usd(v.PriceKRW, rate)), 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `},"photo_url":`...)
	b = appendOptString(b, v.PhotoURL)
	b = append(b, `,"listed_at":`...)
	if v.ListedAt.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendTime(b, v.ListedAt)
	}
	return append(b, '}')
}

// appendTime appends t as timestamp() renders it: Korean time, RFC 3339.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.In(vehicle.KST).AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendOptString appends s, or null when it is empty (as str() does).
func appendOptString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

func appendNullString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does with
// HTML escaping off: quotes, backslashes and control characters escaped,
// invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
