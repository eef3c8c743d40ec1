package kcar

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lmn/aggregator/internal/golden"
)

const testdata = "../../testdata/kcar"

// TestGolden runs the extractor over every input in testdata/kcar (the
// real capture among them), compares every row and field with the golden
// file, and checks that nothing it returns points into the body.
// go test ./sources/kcar -update rewrites the golden files.
func TestGolden(t *testing.T) {
	for _, in := range golden.Inputs(t, testdata, "list-") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, in, golden.CheckDetached(t, body, func(b []byte) (any, error) {
				return ExtractList(b, "")
			}))
		})
	}
}
