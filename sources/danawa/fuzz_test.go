package danawa

import (
	"strings"
	"testing"

	"github.com/lmn/aggregator/internal/golden"
)

// FuzzExtractList: no input makes the extractor panic, and every row it
// accepts has an id and a price.
func FuzzExtractList(f *testing.F) {
	golden.Seed(f, testdata)
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := ExtractList(body, 1)
		if err != nil {
			return
		}
		for _, v := range l.Rows {
			if !strings.HasPrefix(v.ID, "danawa_") || v.PriceKRW <= 0 {
				t.Fatalf("accepted a row without id or price: %+v", v)
			}
		}
	})
}
