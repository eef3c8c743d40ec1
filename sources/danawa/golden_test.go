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
			forgetMemos() // so that what is checked is read from the bodies overwritten
			res := golden.CheckDetached(t, body, func(b []byte) (any, error) { return ExtractList(b, 1) })
			golden.Check(t, in, res)
		})
	}
}

// forgetMemos empties the extractor's memos.
func forgetMemos() {
	titles.forget()
	links.forget()
	photos.forget()
	regions.forget()
}

func (c *memo[V]) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = make(map[string]V)
}
