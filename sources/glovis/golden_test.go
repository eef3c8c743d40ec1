package glovis

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lmn/aggregator/internal/golden"
	"github.com/lmn/aggregator/vehicle"
)

const testdata = "../../testdata/glovis"

// TestGolden runs the extractors over every input in testdata/glovis, and
// checks that nothing they return points into the body.
// go test ./sources/... -update rewrites the golden files.
func TestGolden(t *testing.T) {
	date := time.Date(2025, 6, 20, 13, 0, 0, 0, vehicle.KST)
	for _, kind := range []string{"list", "detail"} {
		for _, in := range golden.Inputs(t, testdata, kind+"-") {
			t.Run(filepath.Base(in), func(t *testing.T) {
				body, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				golden.Check(t, in, golden.CheckDetached(t, body, func(b []byte) (any, error) {
					if kind == "list" {
						return ExtractList(b, date)
					}
					return ExtractDetail(b)
				}))
			})
		}
	}
}
