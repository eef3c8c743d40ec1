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

// Check compares v, as indented JSON, with the golden file beside input
// (input with its extension replaced by .golden.json).
func Check(t *testing.T, input string, v any) {
	t.Helper()
	got := encode(t, v)
	path := strings.TrimSuffix(input, filepath.Ext(input)) + ".golden.json"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from %s; got:\n%s\n(run go test -update and review the diff if the change is intended)", input, path, got)
	}
}

// CheckDetached runs extract over a copy of body, overwrites the copy, and
// fails if what extract returned (its value or its error) changed; then
// reads the same bytes again from another copy, which must give the same
// answer: an extractor that remembers what it has seen must not remember
// pointers into a body. Bodies are read into pooled buffers and reused once
// parsed, so a value pointing into its body would silently turn into
// another page's bytes. Call it with the extractor's memos empty, or it
// checks what they held before. It returns the result, for Check.
func CheckDetached(t *testing.T, body []byte, extract func(body []byte) (any, error)) Result {
	t.Helper()
	buf := bytes.Clone(body)
	v, err := extract(buf)
	before := encode(t, NewResult(v, err))
	overwrite(buf, '#')
	res := NewResult(v, err) // the error's text is read only now
	if after := encode(t, res); !bytes.Equal(before, after) {
		t.Errorf("the extracted value changed when its body was overwritten: it points into the body\nbefore: %s\nafter:  %s", before, after)
	}
	buf2 := bytes.Clone(body)
	v, err = extract(buf2)
	overwrite(buf2, '%')
	if again := encode(t, NewResult(v, err)); !bytes.Equal(before, again) {
		t.Errorf("a second read of the same bytes differs from the first once the first body was overwritten: something remembered points into a body\nfirst:  %s\nsecond: %s", before, again)
	}
	return res
}

func overwrite(b []byte, c byte) {
	for i := range b {
		b[i] = c
	}
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
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

// captures is where the real captures live (testdata/captures, see its
// README for where each came from), from a package two levels below the
// repository root.
const captures = "../../testdata/captures"

// Capture reads a real upstream capture (e.g. "glovis/exhibit-list.html").
// The captures are part of the repository, so a missing one is a failure,
// never a skip.
func Capture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(captures, name))
	if err != nil {
		t.Fatalf("real capture: %v", err)
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
