// Package golden compares test output with files under testdata, the way
// the Go tree does: run with -update to rewrite them, then read the diff.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmn/aggregator/sources"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Result is what an extractor produced for one input: its value, or the
// classified reason it refused the input.
type Result struct {
	Value any    `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
	Kind  string `json:"kind"` // sources.Outcome of the error: success, blocked, drift, …
}

// NewResult wraps an extractor's answer.
func NewResult(v any, err error) Result {
	if err != nil {
		return Result{Error: err.Error(), Kind: sources.Outcome(err)}
	}
	return Result{Value: v, Kind: sources.Outcome(nil)}
}

// Check compares got, as indented JSON, with the golden file beside input
// (input with its extension replaced by .golden.json).
func Check(t *testing.T, input string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	path := strings.TrimSuffix(input, filepath.Ext(input)) + ".golden.json"
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("%s differs from %s; got:\n%s\n(run go test -update and review the diff if the change is intended)", input, path, buf.String())
	}
}

// Inputs lists the files of dir whose names start with prefix, golden
// files excluded.
func Inputs(t *testing.T, dir, prefix string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(dir, prefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range all {
		if !strings.HasSuffix(f, ".golden.json") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s* inputs in %s", prefix, dir)
	}
	return out
}

// upstreams is where the real captures live, from a package two levels
// below the repository root.
const upstreams = "../../../shared/reference/upstreams"

// Capture reads a real upstream capture (e.g. "glovis/exhibit-list.html"),
// skipping the test with a clear message when shared/ is not beside the
// repository.
func Capture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(upstreams, name))
	if os.IsNotExist(err) {
		t.Skipf("real capture %s not present (../shared/ is not beside the repository)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Seed adds every input file of dir (golden files excluded) to a fuzz
// test's corpus.
func Seed(f *testing.F, dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
