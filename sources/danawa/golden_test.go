package danawa

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lmn/aggregator/internal/golden"
)

const testdata = "../../testdata/danawa"

// TestGolden runs the list extractor over every input in testdata/danawa,
// and checks that nothing it returns points into the body.
// go test ./sources/... -update rewrites the golden files.
func TestGolden(t *testing.T) {
	for _, in := range golden.Inputs(t, testdata, "list") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, in, golden.NewResult(ExtractList(body, 1)))
			golden.CheckDetached(t, body, func(b []byte) golden.Result { return golden.NewResult(ExtractList(b, 1)) })
		})
	}
}
