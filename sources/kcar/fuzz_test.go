package kcar

import (
	"testing"

	"github.com/lmn/aggregator/internal/golden"
)

// FuzzExtract: no input makes the list extractor panic, and every lot it
// accepts has an id of the exact pattern and an auction.
func FuzzExtract(f *testing.F) {
	golden.Seed(f, testdata)
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := ExtractList(body, "")
		if err != nil {
			return
		}
		for _, lot := range l.Lots {
			if !IDPattern.MatchString(lot.Vehicle.ID) || lot.Vehicle.Auction == nil {
				t.Fatalf("accepted a lot without an id or auction: %+v", lot)
			}
		}
	})
}
