package korean

import (
	"strings"
	"sync"
)

// Matching a model name against the dictionary is the costliest step in
// reading a dealer row, and the same few hundred names come back row after
// row and request after request. The dictionary never changes while the
// process runs, so an answer, once found, is kept. The memo is bounded: at
// most maxMatches answers, dropped all at once when it is full, so a stream
// of names never seen before costs a bounded amount of memory (about 1 MB).
const maxMatches = 8192

// maxMatchText is the longest text remembered: model names are a few
// words, and a page sending kilobytes of title must not fill the memo.
const maxMatchText = 256

type matchKey struct {
	make *Make
	text string
}

type matchAnswer struct {
	model *Model
	at    match
	ok    bool
}

var matches = struct {
	sync.RWMutex
	m map[matchKey]matchAnswer
}{m: make(map[matchKey]matchAnswer)}

func (m *Make) modelMatch(text string) (*Model, match, bool) {
	if len(text) > maxMatchText {
		return m.matchModel(text)
	}
	k := matchKey{m, text}
	matches.RLock()
	a, hit := matches.m[k]
	matches.RUnlock()
	if hit {
		return a.model, a.at, a.ok
	}
	md, at, ok := m.matchModel(text)
	// The text may be a slice of a whole upstream page; the key must not
	// keep that page alive.
	k.text = strings.Clone(text)
	matches.Lock()
	if len(matches.m) >= maxMatches {
		clear(matches.m)
	}
	matches.m[k] = matchAnswer{md, at, ok}
	matches.Unlock()
	return md, at, ok
}
