package kcar

import (
	"os"
	"testing"
)

// BenchmarkExtractList reads the real 100-row answer (683 KB).
func BenchmarkExtractList(b *testing.B) {
	body, err := os.ReadFile(capture)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ExtractList(body, "B"); err != nil {
			b.Fatal(err)
		}
	}
}
