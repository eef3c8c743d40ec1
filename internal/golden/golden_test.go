package golden

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestCapturesHaveProvenance: every real capture the tests read is in the
// repository, and its README says where each came from, so a clone runs the
// real-page tests and a reader can tell a real page from a fixture.
func TestCapturesHaveProvenance(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(captures, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllSubmatch(readme, -1) {
		listed[string(m[1])] = true
	}
	var files []string
	err = filepath.WalkDir(captures, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "README.md" {
			return err
		}
		rel, _ := filepath.Rel(captures, p)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 9 {
		t.Errorf("%d captures in %s, want the 9 the extractor tests read", len(files), captures)
	}
	for _, f := range files {
		if !listed[f] {
			t.Errorf("capture %s has no line in %s/README.md", f, captures)
		}
		delete(listed, f)
		if len(Capture(t, f)) == 0 {
			t.Errorf("capture %s is empty", f)
		}
	}
	for f := range listed {
		t.Errorf("README lists %s, which is not in %s", f, captures)
	}
}
