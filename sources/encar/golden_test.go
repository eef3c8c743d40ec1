package encar

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lmn/aggregator/internal/golden"
)

const testdata = "../../testdata/encar"

// TestGolden runs the extractors over every input in testdata/encar and
// compares the full normalised output (or the classified failure) with its
// golden file, and checks that nothing they return points into the body.
// go test ./sources/... -update rewrites them.
func TestGolden(t *testing.T) {
	for _, kind := range []string{"list", "detail"} {
		for _, in := range golden.Inputs(t, testdata, kind+"-") {
			t.Run(filepath.Base(in), func(t *testing.T) {
				body, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				golden.Check(t, in, golden.CheckDetached(t, body, func(b []byte) (any, error) {
					if kind == "list" {
						return ExtractList(b, 0, 500)
					}
					return ExtractDetail(b)
				}))
			})
		}
	}
}
