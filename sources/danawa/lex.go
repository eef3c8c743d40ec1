package danawa

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The lexer splits a page into the tokens x/net/html's Tokenizer would
// give (text, start tags, end tags; comments, doctypes and processing
// instructions are skipped) without copying anything: names, text and the
// four attributes the scan reads (class, id, href, src) are slices of the
// page, decoded only when a value is kept. It follows the Tokenizer's rules
// where a page's bytes can be read two ways: the raw text of script, style,
// textarea, title, iframe, noembed, noframes, noscript, xmp and plaintext
// (no tag inside them is a tag, and script's <!-- --> escapes are
// honoured), comments ending at "-->", "--!>" or a bare "<!-->", quoted and
// unquoted attribute values, a '<' that starts no tag being text, and a tag
// cut off by the end of the page being dropped. FuzzLexerMatchesTokenizer
// holds it to the Tokenizer's output.

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokText
	tokStart // a start tag, self-closing or not
	tokEnd
)

// textMode is how a text token's bytes become text.
type textMode uint8

const (
	textData   textMode = iota // character references decoded
	textRCDATA                 // textarea, title: references decoded, NUL replaced
	textRaw                    // script, style and the like: NUL replaced, nothing else
)

// A token holds no pointer, only positions in the page: writing one costs
// no write barrier while the garbage collector runs, which a service under
// load makes it do often.
type token struct {
	kind tokenKind
	mode textMode  // tokText
	tag  atom.Atom // start tags: the name's atom, 0 when atom does not know it
	text span      // tokText, as written
	name span      // tags, as written
	key  uint64    // tags: the name packed (packName), 0 when it does not pack
	// Start tags: the first value of each attribute the scan reads, as
	// written (attrValue decodes it).
	class, id, href, src             span
	hasClass, hasID, hasHref, hasSrc bool
}

// span is the part b[i:j] of a page.
type span struct{ i, j int }

func (s span) in(b []byte) []byte { return b[s.i:s.j] }

type lexer struct {
	b []byte
	i int
	// raw is the element whose raw text comes next.
	raw atom.Atom
}

// Byte classes, for the lexer's and the scan's inner loops: one table load
// instead of a chain of comparisons per byte.
const (
	cSpace    uint8 = 1 << iota // HTML white space
	cNameEnd                    // ends a tag's name: white space, '/', '>'
	cKeyEnd                     // ends an attribute's name: those and '='
	cValueEnd                   // ends an unquoted attribute value: white space, '>'
	cDecode                     // '&', CR, NUL: a value not read as written
	cLetter                     // ASCII letters
)

var byteClass = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\r\f") {
		t[c] |= cSpace | cNameEnd | cKeyEnd | cValueEnd
	}
	t['/'] |= cNameEnd | cKeyEnd
	t['>'] |= cNameEnd | cKeyEnd | cValueEnd
	t['='] |= cKeyEnd
	t['&'] |= cDecode
	t['\r'] |= cDecode
	t[0] |= cDecode
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cLetter
		t[c-'a'+'A'] |= cLetter
	}
	return t
}()

func isSpace(c byte) bool { return byteClass[c]&cSpace != 0 }

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func skipSpace(b []byte, k int) int {
	for k < len(b) && isSpace(b[k]) {
		k++
	}
	return k
}

// next reads the next token into t.
func (z *lexer) next(t *token) {
	*t = token{}
	b := z.b
	if z.raw != 0 {
		start, end, mode := z.i, 0, textRaw
		switch z.raw {
		case atom.Plaintext:
			end = len(b)
		case atom.Script:
			end = scriptEnd(b, start)
		default:
			end = rawEnd(b, start, z.raw.String())
			if z.raw == atom.Textarea || z.raw == atom.Title {
				mode = textRCDATA
			}
		}
		z.raw, z.i = 0, end
		if end > start {
			t.kind, t.text, t.mode = tokText, span{start, end}, mode
			return
		}
	}
	start := z.i
	for k := start; ; {
		lt := k // most often a tag follows a tag
		if k >= len(b) || b[k] != '<' {
			lt = -1
			if j := bytes.IndexByte(b[k:], '<'); j >= 0 {
				lt = k + j
			}
		}
		if lt < 0 || lt+1 >= len(b) {
			// No tag before the end: the rest is text ("<" at the very
			// end included).
			z.i = len(b)
			if start < len(b) {
				t.kind, t.text = tokText, span{start, len(b)}
			}
			return
		}
		c := b[lt+1]
		if !isLetter(c) && c != '/' && c != '!' && c != '?' {
			k = lt + 1 // a '<' that starts nothing is text
			continue
		}
		if start < lt {
			z.i = lt
			t.kind, t.text = tokText, span{start, lt}
			return
		}
		var end int
		switch {
		case isLetter(c):
			end = readTag(b, lt+1, t)
			if end < 0 {
				z.i = len(b)
				*t = token{}
				return
			}
			z.i = end
			t.kind, t.tag = tokStart, tagAtom(t.key, t.name.in(b))
			z.raw = rawElement(t.tag)
			return
		case c == '/':
			if lt+2 >= len(b) {
				// "</" at the very end is text.
				z.i = len(b)
				t.kind, t.text = tokText, span{lt, len(b)}
				return
			}
			switch c2 := b[lt+2]; {
			case c2 == '>': // "</>" is nothing
				end = lt + 3
			case isLetter(c2):
				end = readTag(b, lt+2, t)
				if end < 0 {
					z.i = len(b)
					*t = token{}
					return
				}
				z.i = end
				// An end tag's attributes are nothing.
				*t = token{kind: tokEnd, name: t.name, key: t.key}
				return
			default: // a bogus comment up to the next '>'
				end = closeAngle(b, lt+2)
			}
		case c == '!':
			end = markupEnd(b, lt+2)
		default: // '?': a bogus comment
			end = closeAngle(b, lt+1)
		}
		// A comment or the like was skipped: text starts again after it.
		start, k = end, end
		if k >= len(b) {
			z.i = len(b)
			return
		}
	}
}

// closeAngle is the position after the first '>' at or after k, or the end.
func closeAngle(b []byte, k int) int {
	if j := bytes.IndexByte(b[k:], '>'); j >= 0 {
		return k + j + 1
	}
	return len(b)
}

// markupEnd is the end of a "<!" declaration whose body starts at k: a
// comment, a doctype or a bogus comment.
func markupEnd(b []byte, k int) int {
	if k+2 > len(b) {
		return len(b)
	}
	if b[k] != '-' || b[k+1] != '-' {
		return closeAngle(b, k)
	}
	dashes, beginning := 0, true
	for k += 2; k < len(b); k++ {
		switch b[k] {
		case '-':
			dashes++
			continue
		case '>':
			if dashes >= 2 || beginning {
				return k + 1
			}
		case '!':
			if dashes >= 2 {
				if k+1 >= len(b) {
					return len(b)
				}
				switch b[k+1] {
				case '>':
					return k + 2
				case '-':
					k++
					dashes, beginning = 1, false
					continue
				}
				k++ // the byte after "--!" is consumed with it
			}
		}
		dashes, beginning = 0, false
	}
	return len(b)
}

// readName reads a tag's name starting at k: where it ends, and the name
// packed as packName packs it.
func readName(b []byte, k int) (end int, key uint64) {
	ns, all := k, cLetter
	for ; k < len(b); k++ {
		cl := byteClass[b[k]]
		if cl&cNameEnd != 0 {
			break
		}
		all &= cl
	}
	if n := k - ns; all&cLetter != 0 && n > 0 && n <= 8 {
		return k, load(b, ns, n) | lower8&lowBytes(n)
	}
	return k, 0
}

// lower8 lower-cases the letters of a word of packed ASCII letters (and
// makes no other byte a letter: see packName).
const lower8 = 0x2020202020202020

// load is the n bytes (1 to 8) of b at i packed in a word, the first in
// its low byte.
func load(b []byte, i, n int) uint64 {
	if i+8 <= len(b) {
		return binary.LittleEndian.Uint64(b[i:]) & lowBytes(n)
	}
	var w uint64
	for j := i + n - 1; j >= i; j-- {
		w = w<<8 | uint64(b[j])
	}
	return w
}

// lowBytes is the mask of a word's n low bytes, n from 1 to 8 (the shift
// is masked so that it needs no check for 64).
func lowBytes(n int) uint64 { return ^uint64(0) >> ((64 - 8*n) & 63) }

// The attributes the scan reads, packed as load packs them, lower-cased.
const (
	keyClass = 'c' | 'l'<<8 | 'a'<<16 | 's'<<24 | 's'<<32
	keyID    = 'i' | 'd'<<8
	keyHref  = 'h' | 'r'<<8 | 'e'<<16 | 'f'<<24
	keySrc   = 's' | 'r'<<8 | 'c'<<16
)

// readTag reads a tag whose name starts at k (just after "<" or "</") into
// t's name and attributes; it returns the position after its '>', or -1
// when the page ends inside it.
func readTag(b []byte, k int, t *token) int {
	ns := k
	k, t.key = readName(b, k)
	t.name = span{ns, k}
	for {
		if k = skipSpace(b, k); k >= len(b) {
			return -1
		}
		if b[k] == '>' {
			return k + 1
		}
		// The attribute's name; an '=' first is part of it.
		ks := k
		if b[k] == '=' {
			k++
		}
		for k < len(b) && byteClass[b[k]]&cKeyEnd == 0 {
			k++
		}
		key := uint64(0) // the name packed and lower-cased, if it may be one the scan reads
		if n := k - ks; n >= 2 && n <= 5 {
			// Every byte of the four names is a letter, and only the same
			// letter in either case is that letter once lower-cased.
			key = load(b, ks, n) | lower8&lowBytes(n)
		}
		// Its value.
		var val span
		if k = skipSpace(b, k); k >= len(b) {
			return -1
		}
		switch b[k] {
		case '/':
			k++
		case '=':
			if k = skipSpace(b, k+1); k >= len(b) {
				return -1
			}
			switch q := b[k]; q {
			case '>':
			case '"', '\'':
				j := bytes.IndexByte(b[k+1:], q)
				if j < 0 {
					return -1
				}
				val = span{k + 1, k + 1 + j}
				k += j + 2
			default:
				vs := k
				for k < len(b) && byteClass[b[k]]&cValueEnd == 0 {
					k++
				}
				if k >= len(b) {
					return -1
				}
				val = span{vs, k}
				if b[k] != '>' {
					k++
				}
			}
		}
		switch {
		case key == keyClass && !t.hasClass:
			t.class, t.hasClass = val, true
		case key == keyID && !t.hasID:
			t.id, t.hasID = val, true
		case key == keyHref && !t.hasHref:
			t.href, t.hasHref = val, true
		case key == keySrc && !t.hasSrc:
			t.src, t.hasSrc = val, true
		}
	}
}

// asciiEqualFold says whether b is lower, ASCII letters in any case (the
// Tokenizer lower-cases names and keys this way only).
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// rawElement is a, when its content is text up to its end tag; else 0.
func rawElement(a atom.Atom) atom.Atom {
	switch a {
	case atom.Iframe, atom.Noembed, atom.Noframes, atom.Noscript, atom.Plaintext, atom.Script, atom.Style,
		atom.Textarea, atom.Title, atom.Xmp:
		return a
	}
	return 0
}

// tagAtom is the atom of a tag name, 0 for a name atom does not know;
// key is the name packed (packName), or 0. The names of nearly every tag
// of a page, up to 8 ASCII letters, are found in a small table by key;
// other names, and names the table does not hold, by atom.Lookup.
func tagAtom(key uint64, name []byte) atom.Atom {
	if key != 0 {
		for i := (key * tagHashMul) >> (64 - tagTableBits); ; i = (i + 1) & (1<<tagTableBits - 1) {
			switch e := &tagTable[i]; e.key {
			case key:
				return e.a
			case 0:
				return lookupTag(name)
			}
		}
	}
	return lookupTag(name)
}

// packName is a name of 1 to 8 ASCII letters, lower-cased, packed in a
// word; false for any other name. (c|0x20 lower-cases a letter and only a
// letter is one after it, so a name that packs is one the Tokenizer
// lower-cases alike.)
func packName(name []byte) (uint64, bool) {
	if len(name) == 0 || len(name) > 8 {
		return 0, false
	}
	var w uint64
	for i, c := range name {
		c |= 0x20
		if c < 'a' || c > 'z' {
			return 0, false
		}
		w |= uint64(c) << (8 * i)
	}
	return w, true
}

// lookupTag is the atom of a tag name, 0 for a name atom does not know.
func lookupTag(name []byte) atom.Atom {
	var lower [16]byte
	if len(name) > len(lower) {
		return 0
	}
	for j, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[j] = c
	}
	return atom.Lookup(lower[:len(name)])
}

const (
	tagTableBits = 8
	tagHashMul   = 0x9e3779b97f4a7c15 // 2^64 / the golden ratio: spreads the packed letters
)

// tagTable holds the tags a page is made of, by packName of the name, in
// open addressing; an empty slot's key is 0, which no name packs to.
var tagTable = func() (t [1 << tagTableBits]struct {
	key uint64
	a   atom.Atom
}) {
	for _, a := range []atom.Atom{
		atom.A, atom.Abbr, atom.Address, atom.Area, atom.Article, atom.Aside, atom.B, atom.Base, atom.Body,
		atom.Br, atom.Button, atom.Canvas, atom.Caption, atom.Center, atom.Code, atom.Col,
		atom.Dd, atom.Details, atom.Dialog, atom.Div, atom.Dl, atom.Dt, atom.Em, atom.Fieldset, atom.Font,
		atom.Footer, atom.Form, atom.Head, atom.Header, atom.Hr, atom.Html, atom.I, atom.Iframe, atom.Img,
		atom.Input, atom.Label, atom.Li, atom.Link, atom.Main, atom.Meta, atom.Nav, atom.Noscript, atom.Ol,
		atom.Optgroup, atom.Option, atom.P, atom.Picture, atom.Pre, atom.S, atom.Script, atom.Section,
		atom.Select, atom.Small, atom.Source, atom.Span, atom.Strong, atom.Style, atom.Sub, atom.Summary,
		atom.Sup, atom.Svg, atom.Table, atom.Tbody, atom.Td, atom.Textarea, atom.Tfoot, atom.Th, atom.Thead,
		atom.Title, atom.Tr, atom.U, atom.Ul, atom.Video,
	} {
		w, _ := packName([]byte(a.String()))
		i := (w * tagHashMul) >> (64 - tagTableBits)
		for t[i].key != 0 {
			i = (i + 1) & (1<<tagTableBits - 1)
		}
		t[i].key, t[i].a = w, a
	}
	return t
}()

// rawEnd is where the raw text starting at k ends: at "</name" followed by
// white space, '/' or '>', else at the end of the page.
func rawEnd(b []byte, k int, name string) int {
	for {
		j := bytes.IndexByte(b[k:], '<')
		if j < 0 {
			return len(b)
		}
		k += j
		if isRawEndTag(b, k, name) {
			return k
		}
		k++
	}
}

// isRawEndTag says whether "</name" and a white space, '/' or '>' start at
// k; the name matches in lower or upper case letter by letter, as in the
// Tokenizer.
func isRawEndTag(b []byte, k int, name string) bool {
	if k+2+len(name) >= len(b) || b[k] != '<' || b[k+1] != '/' {
		return false
	}
	for i := range len(name) {
		if c := b[k+2+i]; c != name[i] && c != name[i]-('a'-'A') {
			return false
		}
	}
	switch b[k+2+len(name)] {
	case ' ', '\n', '\r', '\t', '\f', '/', '>':
		return true
	}
	return false
}

// scriptEnd is where a script's text starting at k ends, following the
// HTML rules for "<!--" and "<script" inside a script: a "</script>" inside
// "<!-- <script> ... -->" does not end it.
func scriptEnd(b []byte, k int) int {
	const name = "script"
	n := len(b)
	at := func(i int, c byte) bool { return i < n && b[i] == c }
	// States of the HTML tokenizer's script data.
	const (
		data = iota
		escaped
		escapedDash
		escapedDashDash
		double
		doubleDash
		doubleDashDash
	)
	state := data
	for k < n {
		c := b[k]
		switch state {
		case data:
			if c != '<' {
				k++
				continue
			}
			if isRawEndTag(b, k, name) {
				return k
			}
			if at(k+1, '!') && at(k+2, '-') && at(k+3, '-') {
				k += 4
				state = escapedDashDash
				continue
			}
			k++
		case escaped, escapedDash, escapedDashDash:
			switch {
			case c == '-':
				if state == escaped {
					state = escapedDash
				} else {
					state = escapedDashDash
				}
				k++
			case c == '<':
				if isRawEndTag(b, k, name) {
					return k
				}
				if k+1 < n && isLetter(b[k+1]) {
					if k+2+len(name) <= n && asciiEqualFold(b[k+1:k+1+len(name)], name) && k+1+len(name) < n {
						switch b[k+1+len(name)] {
						case ' ', '\n', '\r', '\t', '\f', '/', '>':
							k += 2 + len(name)
							state = double
							continue
						}
					}
					k++
					state = escaped
					continue
				}
				if at(k+1, '/') {
					// "</" not followed by the end tag: still escaped.
					k += 2
					state = escaped
					continue
				}
				k++
				state = data
			case c == '>' && state == escapedDashDash:
				k++
				state = data
			default:
				k++
				state = escaped
			}
		default: // double, doubleDash, doubleDashDash
			switch {
			case c == '-':
				if state == double {
					state = doubleDash
				} else {
					state = doubleDashDash
				}
				k++
			case c == '<':
				if isRawEndTag(b, k, name) {
					k += 2 + len(name) + 1
					state = escaped
					continue
				}
				k++
				state = double
			case c == '>' && state == doubleDashDash:
				k++
				state = data
			default:
				k++
				state = double
			}
		}
	}
	return n
}

// appendText appends a text token's text to dst as the Tokenizer's Text
// gives it: "\r\n" and "\r" made "\n", NUL replaced in raw text, character
// references decoded outside raw text.
func appendText(dst, s []byte, mode textMode) []byte {
	special := bytes.IndexByte(s, '\r') >= 0 || mode != textRaw && bytes.IndexByte(s, '&') >= 0 ||
		mode != textData && bytes.IndexByte(s, 0) >= 0
	if !special {
		return append(dst, s...)
	}
	s = convertNewlines(s)
	if mode != textData {
		s = bytes.ReplaceAll(s, []byte{0}, []byte("\ufffd"))
	}
	if mode != textRaw {
		return append(dst, html.UnescapeString(string(s))...)
	}
	return append(dst, s...)
}

// convertNewlines is s with "\r\n" and "\r" made "\n", in a copy.
func convertNewlines(s []byte) []byte {
	if bytes.IndexByte(s, '\r') < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' {
			out = append(out, '\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// plain says whether v holds no '&', CR or NUL: text read as written.
// Eight bytes are tested at a time.
func plain(v []byte) bool {
	const ones = 0x0101010101010101
	for ; len(v) >= 8; v = v[8:] {
		x := binary.LittleEndian.Uint64(v)
		if hasZeroByte(x) || hasZeroByte(x^('&'*ones)) || hasZeroByte(x^('\r'*ones)) {
			return false
		}
	}
	for _, c := range v {
		if byteClass[c]&cDecode != 0 {
			return false
		}
	}
	return true
}

// zeroBytes marks the bytes of x that are 0 with their high bit (and may
// mark bytes above one that is: only whether any is marked is used).
func zeroBytes(x uint64) uint64 { return (x - 0x0101010101010101) &^ x & 0x8080808080808080 }

// hasZeroByte says whether a byte of x is 0.
func hasZeroByte(x uint64) bool { return zeroBytes(x) != 0 }

// attrValue is an attribute's value as the Tokenizer's TagAttr gives it:
// NUL replaced, "\r\n" and "\r" made "\n", character references decoded as
// in an attribute (where "&copy=1" stays as written); v itself when there
// is nothing to change.
func attrValue(v []byte) []byte {
	if plain(v) {
		return v
	}
	v = convertNewlines(bytes.ReplaceAll(v, []byte{0}, []byte("\ufffd")))
	amp := bytes.IndexByte(v, '&')
	if amp < 0 {
		return v
	}
	out := make([]byte, 0, len(v))
	for amp >= 0 {
		out = append(out, v[:amp]...)
		v = v[amp:]
		n, text := attrReference(v)
		out = append(out, text...)
		v = v[n:]
		amp = bytes.IndexByte(v, '&')
	}
	return append(out, v...)
}

// attrReference reads the character reference at the start of v (which
// starts with '&') as it is read in an attribute: how many bytes it takes
// and what they stand for; "&" alone (1 byte) when it is none.
func attrReference(v []byte) (int, string) {
	i := 1
	if i < len(v) && v[i] == '#' {
		// Numeric: read alike in attributes and text.
		i++
		hex := i < len(v) && (v[i] == 'x' || v[i] == 'X')
		if hex {
			i++
		}
		d := i
		for i < len(v) && ('0' <= v[i] && v[i] <= '9' || hex && ('a' <= v[i] && v[i] <= 'f' || 'A' <= v[i] && v[i] <= 'F')) {
			i++
		}
		if i == d {
			return 1, "&"
		}
		if i < len(v) && v[i] == ';' {
			i++
		}
		return i, html.UnescapeString(string(v[:i]))
	}
	for i < len(v) && (isLetter(v[i]) || '0' <= v[i] && v[i] <= '9') {
		i++
	}
	semi := i < len(v) && v[i] == ';'
	if semi {
		i++
	}
	if i == 1 || !semi && i < len(v) && v[i] == '=' {
		return 1, "&"
	}
	if string(v[:i]) == "&amp;" {
		return i, "&"
	}
	// Only the whole name counts in an attribute; the text decoder also
	// tries its prefixes ("&ampx" as "&x"), which leaves some of the name
	// (a letter or digit, then the ';' if there was one) after what it
	// decoded, where a whole name's character never ends so (no named
	// character is a letter or digit but those of "&fjlig;", which has
	// no ';' after it).
	s := html.UnescapeString(string(v[:i]))
	if s == string(v[:i]) {
		return 1, "&"
	}
	tail := s
	if semi {
		if !(len(tail) >= 2 && tail[len(tail)-1] == ';') {
			return i, s
		}
		tail = tail[:len(tail)-1]
	}
	if last, _ := utf8.DecodeLastRuneInString(tail); last < utf8.RuneSelf && (isLetter(byte(last)) || '0' <= last && last <= '9') {
		return 1, "&"
	}
	return i, s
}
