package korean

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Model names are matched on whole tokens, not substrings: "그레이" (grey)
// contains "레이" (the Kia Ray) and "플레이" ends with it, and a substring
// match once turned "K5 … 그레이 에디션" into a Ray. Titles glue words
// together freely ("YF쏘나타", "더 올뉴G80", "아이오닉 6" beside "아이오닉6"), so
// a token is a run of Hangul or a run of Latin letters and digits, and a
// spelling matches a run of consecutive tokens whose concatenation equals
// its own.

// token is one run of a text, with where it sits in the original string.
type token struct {
	text       string // folded: Latin upper-cased
	start, end int    // byte offsets in the original text
	hangul     bool
}

func isHangul(r rune) bool { return unicode.Is(unicode.Hangul, r) }

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// tokens splits s into Hangul runs and Latin/digit runs; everything else
// (spaces, brackets, dots, dashes) separates.
func tokens(s string) []token {
	var out []token
	cur := -1 // index in out of the run being extended
	kind := 0 // 1 Hangul, 2 Latin/digit
	for i, r := range s {
		k := 0
		switch {
		case isHangul(r):
			k = 1
		case isAlnum(r):
			k = 2
		}
		if k == 0 {
			kind = 0
			continue
		}
		if k != kind || cur < 0 {
			out = append(out, token{start: i, hangul: k == 1})
			cur = len(out) - 1
			kind = k
		}
		out[cur].end = i + utf8.RuneLen(r)
	}
	for i := range out {
		out[i].text = strings.ToUpper(s[out[i].start:out[i].end])
	}
	return out
}

// joined is a spelling as its tokens concatenated: "아이오닉 6", "아이오닉6"
// and "CR-V" become "아이오닉6", "아이오닉6" and "CRV".
func joined(s string) string {
	var b strings.Builder
	for _, t := range tokens(s) {
		b.WriteString(t.text)
	}
	return b.String()
}

// modelPrefixes are marketing words Korean titles glue in front of a model
// ("올뉴G80" splits on its own, but "뉴그랜저" and "올뉴그랜저" do not).
var modelPrefixes = []string{"디올뉴", "올뉴", "더뉴", "뉴", "신형"}

// match is where a spelling was found in a text.
type match struct {
	start, end int // byte offsets of the matched runs in the text
	runes      int // the spelling's length in characters
}

// find looks for the joined spelling sp among the tokens of a text and
// returns its first occurrence.
func find(toks []token, sp string) (match, bool) {
	if sp == "" {
		return match{}, false
	}
	n := utf8.RuneCountInString(sp)
	for i := range toks {
		candidates := []string{toks[i].text}
		if toks[i].hangul {
			for _, p := range modelPrefixes {
				if rest, ok := strings.CutPrefix(toks[i].text, p); ok && rest != "" {
					candidates = append(candidates, rest)
				}
			}
		}
		for _, first := range candidates {
			if m, ok := extend(toks, i, first, sp); ok {
				m.runes = n
				return m, true
			}
		}
	}
	return match{}, false
}

// extend tries to spell sp with first (all or the end of token i) and the
// tokens after it.
func extend(toks []token, i int, first, sp string) (match, bool) {
	acc := first
	for j := i; ; j++ {
		if j > i {
			acc += toks[j].text
		}
		switch {
		case acc == sp:
			return match{start: toks[i].start, end: toks[j].end}, true
		case j == i && !toks[i].hangul && latinStem(acc, sp):
			// "ES300h" is an ES, "IS250" an IS: a Latin model name may
			// run straight into a number. "Q50" is not a "Q5": the name
			// must end in a letter for that.
			return match{start: toks[i].start, end: toks[i].end}, true
		case !strings.HasPrefix(sp, acc) || j+1 >= len(toks):
			return match{}, false
		}
	}
}

func latinStem(tok, sp string) bool {
	if len(sp) < 2 || !strings.HasPrefix(tok, sp) || len(tok) == len(sp) {
		return false
	}
	last, next := sp[len(sp)-1], tok[len(sp)]
	return last >= 'A' && last <= 'Z' && next >= '0' && next <= '9'
}

// better reports whether a is a better match than b: the longer spelling
// in characters (not bytes: a two-syllable Korean name is six bytes, and
// must not beat "K5"), then the one earlier in the text. Equal matches keep
// the catalogue's order, so the answer never depends on map order.
func better(a, b match) bool {
	if a.runes != b.runes {
		return a.runes > b.runes
	}
	return a.start < b.start
}
