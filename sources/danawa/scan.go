package danawa

import (
	"bytes"
	"io"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The list page is read in one pass over its tokens: no tree is built and
// no selector walks a row. The scan keeps the open elements (tag and the
// classes it knows) on a stack and, for every row open at the moment, the
// first element matching each column, exactly as goquery's
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

var classBits = map[string]class{ // looked up without allocating: m[string(b)]
	"col": clCol, "year": clYear, "km": clKm, "price": clPrice, "area": clArea, "date": clDate,
	"middle": clMiddle, "num": clNum, "name": clName, "list_top": clListTop, "count": clCount,
}

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
	name    string // for elements atom does not know
	classes class
	// list is set on #usedcarList, row on a ul > li inside it.
	list, row bool
}

// scannedRow is what one ul > li held.
type scannedRow struct {
	found  [nFields]bool
	text   [nFields][]byte
	href   string // of a.name
	img    bool   // an img was seen; src is the first one's
	src    string
	hasSrc bool
}

// scannedPage is the page as far as the extractor needs it.
type scannedPage struct {
	list    bool // #usedcarList seen
	base    string
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

// voids never have content or an end tag.
var voids = map[atom.Atom]bool{atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true,
	atom.Hr: true, atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true, atom.Source: true,
	atom.Track: true, atom.Wbr: true, atom.Param: true, atom.Keygen: true}

func scan(body []byte) (*scannedPage, error) {
	p := &scannedPage{}
	z := html.NewTokenizer(bytes.NewReader(body))
	var (
		stack    []open
		lists    int           // #usedcarList elements open
		rows     []*scannedRow // rows whose li is open, outermost first
		caps     []capture
		totalCap = -1 // depth of the em whose text is the total
	)
	pop := func(to int) { // close every element deeper than to
		for len(stack) > to {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.list {
				lists--
			}
			if top.row {
				rows = rows[:len(rows)-1]
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
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				return nil, err
			}
			return p, nil
		case html.TextToken:
			if len(caps) == 0 && totalCap < 0 {
				continue
			}
			t := z.Text()
			for _, c := range caps {
				*c.text = append(*c.text, t...)
			}
			if totalCap >= 0 {
				p.total = append(p.total, t...)
			}
		case html.EndTagToken:
			var t rawTag
			t.parse(z.Raw(), false)
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i].tag == t.tag && (t.tag != 0 || stack[i].name == t.name) {
					pop(i)
					break
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			// The tag is read from its raw bytes: the tokenizer's own
			// accessors copy every name and attribute.
			var t rawTag
			t.parse(z.Raw(), true)
			a := t.tag
			e := open{tag: a, name: t.name, classes: t.classes}
			href, src, hasHref, hasSrc, hasID := t.href, t.src, t.hasHref, t.hasSrc, t.isList
			if a == atom.Li {
				// An li closes the li still open in the same list, as
				// the HTML parser does.
				for i := len(stack) - 1; i >= 0; i-- {
					if t := stack[i].tag; t == atom.Ul || t == atom.Ol {
						break
					} else if t == atom.Li {
						pop(i)
						break
					}
				}
			}
			if a == atom.Base && hasHref && !p.hasBase {
				p.base, p.hasBase = attrString(href), true
			}
			// What this element is to the rows open around it.
			for _, r := range rows {
				switch {
				case a == atom.A && e.classes&clName != 0 && !r.found[fTitle]:
					r.found[fTitle], r.href = true, attrString(href)
					caps = append(caps, capture{depth: len(stack), text: &r.text[fTitle]})
				case a == atom.Img && !r.img:
					r.img, r.src, r.hasSrc = true, attrString(src), hasSrc
				}
				for _, col := range columns {
					if e.classes&col.cell != 0 && !r.found[col.f] && hasAncestor(stack, col.container) {
						r.found[col.f] = true
						caps = append(caps, capture{depth: len(stack), text: &r.text[col.f]})
					}
				}
			}
			if a == atom.Em && !p.hasTot && underCountOfListTop(stack) {
				p.hasTot, totalCap = true, len(stack)
			}
			if voids[a] {
				// A void element's captures (none has text) end with it.
				for len(caps) > 0 && caps[len(caps)-1].depth >= len(stack) {
					caps = caps[:len(caps)-1]
				}
				if totalCap >= len(stack) {
					totalCap = -1
				}
				continue
			}
			if hasID {
				e.list, p.list = true, true
				lists++
			}
			if a == atom.Li && lists > 0 && len(stack) > 0 && stack[len(stack)-1].tag == atom.Ul {
				e.row = true
				r := newRow()
				p.rows = append(p.rows, r)
				rows = append(rows, r)
			}
			stack = append(stack, e)
		}
	}
}

// hasAncestor says whether an open element has every class of want.
func hasAncestor(stack []open, want class) bool {
	for i := range stack {
		if stack[i].classes&want == want {
			return true
		}
	}
	return false
}

// underCountOfListTop says whether the open elements hold a .count inside
// a .list_top.
func underCountOfListTop(stack []open) bool {
	top := false
	for i := range stack {
		if top && stack[i].classes&clCount != 0 {
			return true
		}
		top = top || stack[i].classes&clListTop != 0
	}
	return false
}

// rawTag is what the scan needs of a tag, read from its raw bytes as the
// tokenizer delimited them: "<div class=\"col year\">", "</li>".
type rawTag struct {
	tag     atom.Atom
	name    string // when atom does not know the tag
	classes class
	isList  bool   // id="usedcarList"
	href    []byte // raw: attrString decodes it when it is used
	src     []byte
	hasHref bool
	hasSrc  bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// parse reads raw's name and, with attrs, the attributes the scan uses;
// the first of a repeated attribute counts, as in the tokenizer.
func (t *rawTag) parse(raw []byte, attrs bool) {
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	start := i
	for i < len(raw) && !isSpace(raw[i]) && raw[i] != '/' && raw[i] != '>' {
		i++
	}
	var lower [16]byte
	if name := raw[start:i]; len(name) <= len(lower) {
		for j, c := range name {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[j] = c
		}
		t.tag = atom.Lookup(lower[:len(name)])
		if t.tag == 0 {
			t.name = string(lower[:len(name)])
		}
	} else {
		t.name = string(bytes.ToLower(name))
	}
	if !attrs {
		return
	}
	var seenClass, seenID bool
	for i < len(raw) {
		for i < len(raw) && (isSpace(raw[i]) || raw[i] == '/') {
			i++
		}
		if i >= len(raw) || raw[i] == '>' {
			return
		}
		ks := i
		for i < len(raw) && !isSpace(raw[i]) && raw[i] != '/' && raw[i] != '=' && raw[i] != '>' {
			i++
		}
		key := raw[ks:i]
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
		var val []byte
		if i < len(raw) && raw[i] == '=' {
			i++
			for i < len(raw) && isSpace(raw[i]) {
				i++
			}
			if i < len(raw) && (raw[i] == '"' || raw[i] == '\'') {
				q := raw[i]
				i++
				vs := i
				for i < len(raw) && raw[i] != q {
					i++
				}
				val = raw[vs:i]
				i++
			} else {
				vs := i
				for i < len(raw) && !isSpace(raw[i]) && raw[i] != '>' {
					i++
				}
				val = raw[vs:i]
			}
		}
		switch {
		case bytes.EqualFold(key, []byte("class")) && !seenClass:
			seenClass = true
			if bytes.IndexByte(val, '&') >= 0 {
				val = []byte(html.UnescapeString(string(val)))
			}
			for len(val) > 0 {
				for len(val) > 0 && isSpace(val[0]) {
					val = val[1:]
				}
				n := 0
				for n < len(val) && !isSpace(val[n]) {
					n++
				}
				t.classes |= classBits[string(val[:n])]
				val = val[n:]
			}
		case bytes.EqualFold(key, []byte("id")) && !seenID:
			seenID = true
			t.isList = attrString(val) == "usedcarList"
		case bytes.EqualFold(key, []byte("href")) && !t.hasHref:
			t.href, t.hasHref = val, true
		case bytes.EqualFold(key, []byte("src")) && !t.hasSrc:
			t.src, t.hasSrc = val, true
		}
	}
}

// attrString is an attribute's value with its character references
// decoded.
func attrString(v []byte) string {
	if bytes.IndexByte(v, '&') < 0 {
		return string(v)
	}
	return html.UnescapeString(string(v))
}

// fieldCap is room for each column's text in one allocation per row; a
// longer text grows its own.
var fieldCap = [nFields]int{fTitle: 160, fYear: 16, fKm: 24, fPrice: 24, fArea: 24, fDate: 24}

func newRow() *scannedRow {
	r := &scannedRow{}
	buf := make([]byte, 0, 272)
	at := 0
	for f := range nFields {
		r.text[f] = buf[at : at : at+fieldCap[f]]
		at += fieldCap[f]
	}
	return r
}
