package danawa

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/net/html/atom"
)

// The list page is read in one pass over its tokens (lex.go): no tree is
// built and no selector walks a row. The scan keeps the open elements (tag
// and the classes it knows) on a stack and, for every row open at the
// moment, the first element matching each column, exactly as goquery's
// li.Find(selector).First() would pick it:
//
//	rows       #usedcarList ul > li
//	title      a.name (its text and href)
//	year       .col.year .middle
//	km         .col.km .middle
//	price      .col.price .num
//	photo      img (its src)
//	region     .col.area .middle
//	listed     .col.date .middle
//	total      .list_top .count em, anywhere on the page
//	base       base[href], anywhere on the page
//
// Nothing is copied while the page is read: a column's text is a slice of
// the page unless it spans several text tokens or holds a character
// reference, and the href and src are kept as written (decoded when used).

// class is a bit set of the class names the scan looks for.
type class uint16

const (
	clCol class = 1 << iota
	clYear
	clKm
	clPrice
	clArea
	clDate
	clMiddle
	clNum
	clName
	clListTop
	clCount
)

// classMemo remembers the classes of the last class values of up to 16
// bytes seen, by their bytes: a list page repeats a handful of values
// ("col year", "middle") on every row, and a scanner keeps its memo from
// page to page. It holds no pointer: nothing of a page stays in it. A
// value has two slots, i and i^1, so two values that hash alike do not
// push each other out on every row.
type classMemo [1 << classMemoBits]classMemoEntry

type classMemoEntry struct {
	lo, hi uint64 // the value's bytes, packed
	n      int    // its length; 0 in an empty slot
	cl     class
}

// classesOf is classesOf(b, v), remembered.
func (m *classMemo) classesOf(b []byte, v span) class {
	n := v.j - v.i
	if n == 0 || n > 16 {
		return classesOf(b, v)
	}
	lo, hi := load(b, v.i, min(n, 8)), uint64(0)
	if n > 8 {
		hi = load(b, v.i+8, n-8)
	}
	h := lo ^ hi*classHashMul
	h ^= h >> 29 // values alike but in their last bytes ("col km", "col year") land apart
	i := (h * tagHashMul) >> (64 - classMemoBits)
	if e := &m[i]; e.n == n && e.lo == lo && e.hi == hi {
		return e.cl
	}
	if e := &m[i^1]; e.n == n && e.lo == lo && e.hi == hi {
		return e.cl
	}
	cl := classesOf(b, v)
	m[i^1], m[i] = m[i], classMemoEntry{lo: lo, hi: hi, n: n, cl: cl}
	return cl
}

const (
	classMemoBits = 7
	classHashMul  = 0xc2b2ae3d27d4eb4f // another odd constant, so that lo and hi mix
)

// classesOf is the set of known classes in the class attribute's value
// v of a page b, read in place unless it holds something to decode.
func classesOf(b []byte, v span) class {
	if d := v.in(b); !plain(d) {
		d = attrValue(d)
		return classWords(d, 0, len(d))
	}
	return classWords(b, v.i, v.j)
}

// classWords is the set of known classes among the words of b[i:j].
func classWords(b []byte, i, j int) class {
	var cl class
	for k := i; k < j; {
		for k < j && isSpace(b[k]) {
			k++
		}
		ws := k
		for k < j && !isSpace(b[k]) {
			k++
		}
		if n := k - ws; n > 0 && n <= 8 {
			cl |= classWord(load(b, ws, n))
		}
	}
	return cl
}

// classWord is the class bit of a class name of 1 to 8 bytes packed in a
// word (as written: class names are case-sensitive), 0 for a name the
// scan does not look for. A value holds no NUL once decoded, so no two
// names pack alike.
func classWord(w uint64) class {
	for i := (w * tagHashMul) >> (64 - classTableBits); ; i = (i + 1) & (1<<classTableBits - 1) {
		switch e := &classTable[i]; e.key {
		case w:
			return e.cl
		case 0:
			return 0
		}
	}
}

const classTableBits = 6

// classTable holds the class names the scan looks for, packed, in open
// addressing; an empty slot's key is 0.
var classTable = func() (t [1 << classTableBits]struct {
	key uint64
	cl  class
}) {
	for name, cl := range map[string]class{
		"col": clCol, "year": clYear, "km": clKm, "price": clPrice, "area": clArea, "date": clDate,
		"middle": clMiddle, "num": clNum, "name": clName, "list_top": clListTop, "count": clCount,
	} {
		var w uint64
		for i := range len(name) {
			w |= uint64(name[i]) << (8 * i)
		}
		i := (w * tagHashMul) >> (64 - classTableBits)
		for t[i].key != 0 {
			i = (i + 1) & (1<<classTableBits - 1)
		}
		t[i].key, t[i].cl = w, cl
	}
	return t
}()

// field is a column of a row.
type field int

const (
	fTitle field = iota
	fYear
	fKm
	fPrice
	fArea
	fDate
	nFields
)

// columns maps the class a column's cell has on its container (with col)
// to the column; the cell itself has class middle, or num for the price.
var columns = [...]struct {
	container class
	cell      class
	f         field
}{
	{clCol | clYear, clMiddle, fYear},
	{clCol | clKm, clMiddle, fKm},
	{clCol | clPrice, clNum, fPrice},
	{clCol | clArea, clMiddle, fArea},
	{clCol | clDate, clMiddle, fDate},
}

type open struct {
	tag     atom.Atom
	name    span   // as written
	key     uint64 // the name packed (packName), 0 when it does not pack
	classes class
	// list is set on #usedcarList, row on a ul > li inside it.
	list, row bool
	// countInTop: a .count inside a .list_top.
	countInTop bool
	// counted: the element is one of those counted above (its classes
	// make it a container, a .list_top or a .count in one; a list, a row,
	// a p), whose end uncounts it.
	counted bool
}

// scannedRow is what one ul > li held.
type scannedRow struct {
	found [nFields]bool
	text  [nFields][]byte // decoded
	href  []byte          // of a.name, as written
	img   bool            // an img was seen; src is the first one's
	src   []byte          // as written
	// hasSrc: the img had a src.
	hasSrc bool
}

// scannedPage is the page as far as the extractor needs it.
type scannedPage struct {
	list    bool // #usedcarList seen
	base    []byte
	hasBase bool
	total   []byte
	hasTot  bool
	rows    []*scannedRow // in document order of their li
}

// capture is an element whose text goes to a field of some rows.
type capture struct {
	depth int // stack depth of the element
	text  *[]byte
}

// isVoid says whether an element never has content or an end tag.
func isVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input, atom.Link,
		atom.Meta, atom.Source, atom.Track, atom.Wbr, atom.Param, atom.Keygen:
		return true
	}
	return false
}

// sameName says whether two tag names not known to atom are the same
// name: ASCII letters in any case, and NUL standing for U+FFFD as the
// Tokenizer reads it.
func sameName(a, b []byte) bool {
	if bytes.IndexByte(a, 0) >= 0 || bytes.IndexByte(b, 0) >= 0 {
		a = bytes.ReplaceAll(a, []byte{0}, []byte("\ufffd"))
		b = bytes.ReplaceAll(b, []byte{0}, []byte("\ufffd"))
	}
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// appendField appends a text token of body to a captured text: the first
// piece is kept as a slice of the page when it needs no decoding; a
// second piece copies (the slice's capacity ends with it).
func appendField(dst *[]byte, body []byte, t *token) {
	text := body[t.text.i:t.text.j:t.text.j]
	if *dst == nil && plain(text) {
		*dst = text
		return
	}
	*dst = appendText(*dst, text, t.mode)
}

// maxDepth bounds the open elements: every step of the scan that looks
// through them is then bounded too, whatever a page holds. Real pages nest
// a few dozen deep once the end tags HTML lets a page leave out are
// implied (impliedEnd); deeper is drift.
const maxDepth = 512

// impliedEnd is the open element that the start of an a element closes,
// as the HTML parser closes it, or -1: the elements whose end tag a page
// may leave out (li, p, option, optgroup, dt, dd, tr, td, th, and the
// table sections). Without it a long form of options or a run of bare
// paragraphs, which browsers read as siblings, would pile up as nesting.
// For an optgroup the caller asks twice: an open option, then an open
// optgroup. ps is how many p elements are open: with none, the many
// elements that close a p need not look for one.
func impliedEnd(a atom.Atom, stack []open, ps int) int {
	// find is the deepest open element among want, looking no further
	// than the first of stop.
	find := func(want, stop []atom.Atom) int {
		for i := len(stack) - 1; i >= 0; i-- {
			switch t := stack[i].tag; {
			case slices.Contains(want, t):
				return i
			case slices.Contains(stop, t):
				return -1
			}
		}
		return -1
	}
	top := func() atom.Atom {
		if len(stack) == 0 {
			return 0
		}
		return stack[len(stack)-1].tag
	}
	// One switch, so that the many elements that close nothing are told
	// so by a few comparisons.
	switch a {
	case atom.Li:
		if i := find([]atom.Atom{atom.Li}, []atom.Atom{atom.Ul, atom.Ol}); i >= 0 {
			return i
		}
	case atom.Option:
		if top() == atom.Option {
			return len(stack) - 1
		}
		return -1
	case atom.Optgroup:
		if t := top(); t == atom.Option || t == atom.Optgroup {
			return len(stack) - 1
		}
		return -1
	case atom.Dd, atom.Dt:
		if i := find([]atom.Atom{atom.Dd, atom.Dt}, []atom.Atom{atom.Dl, atom.Table, atom.Td, atom.Th, atom.Button, atom.Body, atom.Html}); i >= 0 {
			return i
		}
	case atom.Td, atom.Th:
		return find([]atom.Atom{atom.Td, atom.Th}, []atom.Atom{atom.Tr, atom.Table})
	case atom.Tr:
		return find([]atom.Atom{atom.Tr}, []atom.Atom{atom.Tbody, atom.Thead, atom.Tfoot, atom.Table})
	case atom.Tbody, atom.Thead, atom.Tfoot:
		return find([]atom.Atom{atom.Tbody, atom.Thead, atom.Tfoot}, []atom.Atom{atom.Table})
	}
	if ps == 0 {
		return -1
	}
	switch a { // the elements whose start closes a p open in button scope
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Details, atom.Dialog,
		atom.Dir, atom.Div, atom.Dl, atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer, atom.Header,
		atom.Hgroup, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.P, atom.Search, atom.Section, atom.Summary,
		atom.Ul, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Pre, atom.Listing, atom.Form,
		atom.Table, atom.Hr, atom.Xmp, atom.Li, atom.Dd, atom.Dt:
		return find([]atom.Atom{atom.P}, []atom.Atom{atom.Button, atom.Table, atom.Td, atom.Th, atom.Caption,
			atom.Object, atom.Marquee, atom.Applet, atom.Template, atom.Html})
	}
	return -1
}

// scanner is what a scan works with, kept from page to page (scanners):
// once a page of some size was read, the next such page is read without
// allocating.
type scanner struct {
	page  scannedPage
	slab  []scannedRow // the last slab rows were taken from
	stack []open
	rows  []*scannedRow
	caps  []capture
	// classes is kept as it is from page to page.
	classes classMemo
	// key is where ExtractList builds memo keys (copies: nothing in it
	// points into a page).
	key []byte
}

var scanners = sync.Pool{New: func() any { return new(scanner) }}

// maxKeptRows is how many rows a scanner keeps room for between pages: a
// page of more (no real page is) leaves its rows to the collector.
const maxKeptRows = 64

// release gives s to the next scan; the page it read must not be used
// after.
func (s *scanner) release() {
	s.reset()
	scanners.Put(s)
}

// reset forgets the page read, so that nothing kept points into its body.
func (s *scanner) reset() {
	clear(s.slab)
	s.slab = s.slab[:0]
	rows := s.page.rows
	clear(rows)
	if cap(s.slab) > maxKeptRows || cap(rows) > maxKeptRows {
		s.slab, rows = nil, nil
	}
	s.page = scannedPage{rows: rows[:0]}
	// Up to their capacity: a scan pops rows and captures, and what it
	// popped still points into the page (and into slabs of older pages).
	clear(s.rows[:cap(s.rows)])
	clear(s.caps[:cap(s.caps)])
	s.rows, s.caps, s.stack = s.rows[:0], s.caps[:0], s.stack[:0]
	if cap(s.key) > maxKeptKey {
		s.key = nil // grown by a freak link
	}
}

// maxKeptKey is the room for memo keys a scanner keeps between pages:
// a real key is a link or a photo after the base.
const maxKeptKey = 4 << 10

// scan reads a page into s's page.
func (s *scanner) scan(body []byte) (*scannedPage, error) {
	p := &s.page
	z := lexer{b: body}
	var (
		t        token
		stack    = s.stack[:0]
		lists    int          // #usedcarList elements open
		rows     = s.rows[:0] // rows whose li is open, outermost first
		caps     = s.caps[:0] // captures open
		totalCap = -1         // depth of the em whose text is the total
		slab     = s.slab[:0]
		// How many open elements have each column's container classes,
		// the class list_top, and a .count inside a .list_top.
		within            [len(columns)]int
		listTops, topCnts int
		ps                int // p elements open
	)
	pop := func(to int) { // close every element deeper than to
		for len(stack) > to {
			top := &stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.counted {
				if top.classes&clCol != 0 { // every container is a .col
					for i, col := range columns {
						if top.classes&col.container == col.container {
							within[i]--
						}
					}
				}
				if top.classes&clListTop != 0 {
					listTops--
				}
				if top.countInTop {
					topCnts--
				}
				if top.list {
					lists--
				}
				if top.row {
					rows = rows[:len(rows)-1]
				}
				if top.tag == atom.P {
					ps--
				}
			}
			for len(caps) > 0 && caps[len(caps)-1].depth >= len(stack) {
				caps = caps[:len(caps)-1]
			}
			if totalCap >= len(stack) {
				totalCap = -1
			}
		}
	}
	for {
		z.next(&t)
		switch t.kind {
		case tokEOF:
			s.slab, s.stack, s.rows, s.caps = slab, stack, rows, caps
			return p, nil
		case tokText:
			for _, c := range caps {
				appendField(c.text, body, &t)
			}
			if totalCap >= 0 {
				appendField(&p.total, body, &t)
			}
		case tokEnd:
			if n := len(stack); n > 0 && t.key != 0 && stack[n-1].key == t.key {
				// Nearly every end tag closes the innermost element: the
				// same letters, so the same atom or the same name.
				pop(n - 1)
				continue
			}
			name := t.name.in(body)
			a := tagAtom(t.key, name)
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i].tag == a && (a != 0 || sameName(stack[i].name.in(body), name)) {
					pop(i)
					break
				}
			}
		case tokStart:
			a := t.tag
			e := open{tag: a, name: t.name, key: t.key}
			if t.hasClass {
				e.classes = s.classes.classesOf(body, t.class)
			}
			if i := impliedEnd(a, stack, ps); i >= 0 {
				pop(i)
				if a == atom.Optgroup {
					if i := impliedEnd(a, stack, ps); i >= 0 { // an option, then its optgroup
						pop(i)
					}
				}
			}
			if a == atom.Base && t.hasHref && !p.hasBase {
				p.base, p.hasBase = t.href.in(body), true
			}
			// What this element is to the rows open around it.
			for _, r := range rows {
				switch {
				case a == atom.A && e.classes&clName != 0 && !r.found[fTitle]:
					r.found[fTitle], r.href = true, t.href.in(body)
					caps = append(caps, capture{depth: len(stack), text: &r.text[fTitle]})
				case a == atom.Img && !r.img:
					r.img, r.src, r.hasSrc = true, t.src.in(body), t.hasSrc
				}
				if e.classes&(clMiddle|clNum) == 0 {
					continue
				}
				for i, col := range columns {
					if e.classes&col.cell != 0 && !r.found[col.f] && within[i] > 0 {
						r.found[col.f] = true
						caps = append(caps, capture{depth: len(stack), text: &r.text[col.f]})
					}
				}
			}
			if a == atom.Em && !p.hasTot && topCnts > 0 {
				p.hasTot, totalCap = true, len(stack)
			}
			if isVoid(a) {
				// A void element's captures (none has text) end with it.
				for len(caps) > 0 && caps[len(caps)-1].depth >= len(stack) {
					caps = caps[:len(caps)-1]
				}
				if totalCap >= len(stack) {
					totalCap = -1
				}
				continue
			}
			if t.hasID && string(attrValue(t.id.in(body))) == "usedcarList" {
				e.list, p.list = true, true
				lists++
			}
			if a == atom.Li && lists > 0 && len(stack) > 0 && stack[len(stack)-1].tag == atom.Ul {
				e.row = true
				if len(slab) == cap(slab) {
					// Rows never move: a full slab is left as it is.
					slab = make([]scannedRow, 0, max(16, 2*cap(slab)))
				}
				slab = append(slab, scannedRow{})
				r := &slab[len(slab)-1]
				p.rows = append(p.rows, r)
				rows = append(rows, r)
			}
			if len(stack) == maxDepth {
				s.slab, s.stack, s.rows, s.caps = slab, stack, rows, caps
				return nil, fmt.Errorf("elements nested deeper than %d", maxDepth)
			}
			if e.classes&clCol != 0 {
				for i, col := range columns {
					if e.classes&col.container == col.container {
						within[i]++
					}
				}
			}
			if e.classes&clCount != 0 && listTops > 0 {
				e.countInTop = true
				topCnts++
			}
			if e.classes&clListTop != 0 {
				listTops++
			}
			if a == atom.P {
				ps++
			}
			e.counted = e.classes&(clCol|clListTop) != 0 || e.countInTop || e.list || e.row || a == atom.P
			stack = append(stack, e)
		}
	}
}
