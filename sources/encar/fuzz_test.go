package encar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdata, "*"))
	for _, p := range files {
		if !strings.HasSuffix(p, ".golden.json") {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// FuzzExtract: no input makes the decoders panic, and what they accept is
// well-formed.
func FuzzExtract(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if l, err := ExtractList(body); err == nil {
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
