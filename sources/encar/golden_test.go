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
// golden file. go test ./sources/... -update rewrites them.
func TestGolden(t *testing.T) {
	for _, kind := range []string{"list", "detail"} {
		for _, in := range golden.Inputs(t, testdata, kind+"-") {
			t.Run(filepath.Base(in), func(t *testing.T) {
				body, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				var res golden.Result
				if kind == "list" {
					res = golden.NewResult(ExtractList(body, 0, 500))
				} else {
					res = golden.NewResult(ExtractDetail(body))
				}
				golden.Check(t, in, res)
			})
		}
	}
}
