package sources

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/lmn/aggregator/vehicle"
)

// MinRowsForMissing is the smallest page on which an optional field empty
// on every row is taken as a sign the field moved, not as chance.
const MinRowsForMissing = 10

var (
	missingMu  sync.Mutex
	missing    = map[[2]string]int64{} // {source, field} → pages
	missingLog atomic.Pointer[slog.Logger]
)

// LogMissingTo sets where NoteMissing logs; until it is called, it logs to
// slog's default logger.
func LogMissingTo(l *slog.Logger) { missingLog.Store(l) }

// NoteMissing records that an optional field was empty on every row of a
// page of rows rows (callers only call it for pages of MinRowsForMissing or
// more). A renamed optional field does not fail a page, but it must not
// disappear silently either: it is counted per source and field, and logged.
// Fields are the extractor's own declared names, so the labels are bounded.
func NoteMissing(source, field string, rows int) {
	missingMu.Lock()
	missing[[2]string{source, field}]++
	missingMu.Unlock()
	l := missingLog.Load()
	if l == nil {
		l = slog.Default()
	}
	l.Warn("optional field empty on every row of a page: the page may have changed", "source", source, "field", field, "rows", rows)
}

// Optional is a field an extractor's rows may lack, named as in the metric.
type Optional struct {
	Name  string
	Empty func(v *vehicle.Vehicle) bool
}

// NoteMissingFields notes (NoteMissing) each of fields that is empty on every
// one of a page's n rows, row(i) being the i-th; pages under
// MinRowsForMissing rows say nothing.
func NoteMissingFields(source vehicle.Source, n int, row func(i int) *vehicle.Vehicle, fields []Optional) {
	if n < MinRowsForMissing {
		return
	}
	for _, f := range fields {
		all := true
		for i := range n {
			if !f.Empty(row(i)) {
				all = false
				break
			}
		}
		if all {
			NoteMissing(string(source), f.Name, n)
		}
	}
}

// DeclareMissing registers source's optional fields, so that each is
// counted, and exported, as 0 from the start rather than appearing only
// with its first miss (a dashboard would show "No data"). Extractor
// packages call it when they initialise; it returns true for that use.
func DeclareMissing(source vehicle.Source, fields []Optional) bool {
	missingMu.Lock()
	defer missingMu.Unlock()
	for _, f := range fields {
		k := [2]string{string(source), f.Name}
		missing[k] += 0
	}
	return true
}

// DeclareSkipped registers a reason source's extractor may skip rows for,
// counted as 0 from the start; it returns reason.
func DeclareSkipped(source vehicle.Source, reason string) string {
	skippedMu.Lock()
	defer skippedMu.Unlock()
	skipped[[2]string{string(source), reason}] += 0
	return reason
}

// MissingCounts returns how many pages had each {source, field} empty on
// every row, since the process started.
func MissingCounts() map[[2]string]int64 {
	missingMu.Lock()
	defer missingMu.Unlock()
	out := make(map[[2]string]int64, len(missing))
	for k, v := range missing {
		out[k] = v
	}
	return out
}

var (
	skippedMu sync.Mutex
	skipped   = map[[2]string]int64{} // {source, reason} → rows
)

// NoteSkipped records rows of a page left out for reason (a bounded word
// such as "link_shape"), and logs one line naming the first example.
func NoteSkipped(source, reason string, rows int, example string) {
	skippedMu.Lock()
	skipped[[2]string{source, reason}] += int64(rows)
	skippedMu.Unlock()
	l := missingLog.Load()
	if l == nil {
		l = slog.Default()
	}
	l.Warn("rows skipped: their shape was never seen", "source", source, "reason", reason, "rows", rows, "example", example)
}

// SkippedCounts returns how many rows were skipped per {source, reason}
// since the process started.
func SkippedCounts() map[[2]string]int64 {
	skippedMu.Lock()
	defer skippedMu.Unlock()
	out := make(map[[2]string]int64, len(skipped))
	for k, v := range skipped {
		out[k] = v
	}
	return out
}
