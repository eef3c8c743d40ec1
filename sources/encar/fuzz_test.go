package encar

import (
	"strings"
	"testing"

	"github.com/lmn/aggregator/internal/golden"
)

// FuzzExtract: no input makes the decoders panic, and what they accept is
// well-formed.
func FuzzExtract(f *testing.F) {
	golden.Seed(f, testdata)
	f.Fuzz(func(t *testing.T, body []byte) {
		if l, err := ExtractList(body, 0, 500); err == nil {
			for _, v := range l.Rows {
				if !strings.HasPrefix(v.ID, "encar_") || v.Make == "" || v.Model == "" {
					t.Fatalf("accepted a row without id, make or model: %+v", v)
				}
			}
		}
		if v, err := ExtractDetail(body); err == nil && !strings.HasPrefix(v.ID, "encar_") {
			t.Fatalf("accepted a detail without id: %+v", v)
		}
	})
}
