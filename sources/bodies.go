package sources

import (
	"math/bits"
	"sync"
)

// Upstream bodies are the largest thing a dealer request allocates: the five
// bodies it reads, parses and drops are half its bytes, and bytes allocated
// are what sets how often the GC runs. So bodies are read into buffers kept
// in power-of-two size classes and handed back by Response.Release once
// parsed.
//
// A buffer handed back is overwritten by a later read, so nothing extracted
// from a body may point into it: extractors copy what they keep (string(b)
// copies). Each source package's golden test checks this by overwriting the
// body after extraction (golden.CheckDetached).

const (
	minBodyClass = 15 // 32 KiB, readChunk
	maxBodyClass = 22 // 4 MiB, the default MaxBody; larger buffers are not kept
)

// bodyPools[i] holds *[]byte of capacity 1<<(minBodyClass+i).
var bodyPools [maxBodyClass - minBodyClass + 1]sync.Pool

// bodyClass is the index of the smallest class holding n bytes, or -1 when
// n is beyond the largest.
func bodyClass(n int) int {
	c := max(bits.Len(uint(max(n, 1)-1)), minBodyClass)
	if c > maxBodyClass {
		return -1
	}
	return c - minBodyClass
}

// bodyCap is the capacity of the buffer getBody(n) returns: what a body of
// n bytes really holds in memory.
func bodyCap(n int) int {
	if i := bodyClass(n); i >= 0 {
		return 1 << (minBodyClass + i)
	}
	return n
}

// getBody returns an empty buffer of capacity bodyCap(n).
func getBody(n int) *[]byte {
	i := bodyClass(n)
	if i < 0 {
		b := make([]byte, 0, n)
		return &b
	}
	if p, ok := bodyPools[i].Get().(*[]byte); ok {
		*p = (*p)[:0]
		return p
	}
	b := make([]byte, 0, 1<<(minBodyClass+i))
	return &b
}

// putBody keeps p for a later read if its capacity is a class size.
func putBody(p *[]byte) {
	c := cap(*p)
	if i := bodyClass(c); i >= 0 && c == 1<<(minBodyClass+i) {
		bodyPools[i].Put(p)
	}
}
