package glovis

import (
	"strings"
	"testing"
	"time"

	"github.com/lmn/aggregator/internal/golden"
)

// FuzzExtract: no input makes the list or detail extractor panic, and every
// lot the list extractor accepts has an id and an auction.
func FuzzExtract(f *testing.F) {
	golden.Seed(f, testdata)
	f.Fuzz(func(t *testing.T, body []byte) {
		if l, err := ExtractList(body, time.Time{}); err == nil {
			for _, lot := range l.Lots {
				if !strings.HasPrefix(lot.Vehicle.ID, "glovis_") || lot.Vehicle.Auction == nil {
					t.Fatalf("accepted a lot without id or auction: %+v", lot)
				}
			}
		}
		_, _ = ExtractDetail(body)
		_, _ = ExtractRounds(body)
	})
}
