package danawa

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/internal/golden"
	"github.com/lmn/aggregator/sources"
)

func TestOneSpaced(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"기아 카니발":      "기아 카니발",
		" 기아  카니발 ":   "기아 카니발",
		"기아\n\t카니발":   "기아 카니발",
		"기아\u00a0카니발": "기아 카니발",
		"기아 카니발 ":     "기아 카니발",
		"   ":         "",
	} {
		assert.Equal(t, want, oneSpaced(in), "%q", in)
	}
}

// scanned is one row as the scan read it, its text decoded.
type scanned struct {
	title, href, year, km, price, area, date, src string
}

func scannedRows(p *scannedPage) []scanned {
	var out []scanned
	for _, r := range p.rows {
		out = append(out, scanned{
			title: string(r.text[fTitle]), href: string(attrValue(r.href)),
			year: string(r.text[fYear]), km: string(r.text[fKm]), price: string(r.text[fPrice]),
			area: string(r.text[fArea]), date: string(r.text[fDate]), src: string(attrValue(r.src)),
		})
	}
	return out
}

// TestScanShapes: markup a real page may carry is read as the HTML parser
// reads it. Expected values are read off each page by hand.
func TestScanShapes(t *testing.T) {
	list := func(items string) string { return `<div id="usedcarList"><ul>` + items + `</ul></div>` }
	for _, c := range []struct {
		name string
		page string
		want []scanned
	}{
		{"a row in a comment is no row",
			list(`<!-- <li><a class="name" href="/fake">가짜</a></li> --><li><a class="name" href="/real">진짜</a></li>`),
			[]scanned{{title: "진짜", href: "/real"}}},
		{"markup inside script and style is text",
			list(`<li><script>var s = "<a class='name' href='/fake'>가짜</a><li>";</script><style>.col.year .middle{color:red}</style>` +
				`<a class="name" href="/real">진짜</a><div class="col year"><span class="middle">2021</span></div></li>`),
			[]scanned{{title: "진짜", href: "/real", year: "2021"}}},
		{"quotes of either kind, none, upper-case names",
			list(`<LI><A CLASS='name' HREF=/b?x=1>T</A><DIV class=" col  year "><SPAN Class=middle>2021</SPAN></DIV>` +
				`<div class='col price'><span class='num'>3,750</span></div><IMG SRC='/p.jpg'></LI>`),
			[]scanned{{title: "T", href: "/b?x=1", year: "2021", price: "3,750", src: "/p.jpg"}}},
		{"character references in text and attributes",
			list(`<li><a class="name" href="/b?partner=kcar&amp;carSeq=1&copy=2">기아 &amp; &#39;K5&#39; &#x41;&lt;</a></li>`),
			[]scanned{{title: "기아 & 'K5' A<", href: "/b?partner=kcar&carSeq=1&copy=2"}}},
		{"CR and CRLF read as LF",
			list("<li><a class=\"name\" href=\"/h\">\r\n기아\r카니발\r\n</a></li>"),
			[]scanned{{title: "\n기아\n카니발\n", href: "/h"}}},
		{"a void element inside a cell",
			list(`<li><a class="name" href="/h">A<br>B</a><div class="col price"><span class="num">3,<br/>750</span></div></li>`),
			[]scanned{{title: "AB", href: "/h", price: "3,750"}}},
		{"an li left open is closed by the next",
			list(`<li><a class="name" href="/1">one</a><li><a class="name" href="/2">two</a>`),
			[]scanned{{title: "one", href: "/1"}, {title: "two", href: "/2"}}},
		{"an end tag closes what was left open inside it; a stray one is ignored",
			list(`<li><a class="name" href="/h">T</a></span><div class="col km"><span class="middle">1km</div>` +
				`<div class="col year"><span class="middle">2020</span></div></li>`),
			[]scanned{{title: "T", href: "/h", km: "1km", year: "2020"}}},
		{"a '<' that starts no tag is text; a '>' inside quotes ends no tag",
			list(`<li><a class="name" title="a>b" href="/h">a < b <3</a></li>`),
			[]scanned{{title: "a < b <3", href: "/h"}}},
		{"elements atom does not know, closed by name",
			list(`<li><a class="name" href="/h">T</a><x-col class="col price"><x-n class=num>100</x-n></x-col>` +
				`<x-col class="col area"><X-N class="middle">경기</x-n></X-COL></li>`),
			[]scanned{{title: "T", href: "/h", price: "100", area: "경기"}}},
		{"the first a.name and img of a row count",
			list(`<li><img src="/1.jpg"><img src="/2.jpg"><a class="name" href="/1">one</a><a class="name" href="/2">two</a></li>`),
			[]scanned{{title: "one", href: "/1", src: "/1.jpg"}}},
		{"a page cut inside a tag keeps what came before",
			list(`<li><a class="name" href="/h">T</a>`) + `<div class="col year`,
			[]scanned{{title: "T", href: "/h"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := new(scanner).scan([]byte(c.page))
			require.NoError(t, err)
			assert.True(t, p.list)
			assert.Equal(t, c.want, scannedRows(p))
		})
	}
}

// TestScannerReused: a scanner kept from one page reads the next as a new
// scanner does, whatever the page before held.
func TestScannerReused(t *testing.T) {
	var pages [][]byte
	for _, in := range golden.Inputs(t, testdata, "list") {
		body, err := os.ReadFile(in)
		require.NoError(t, err)
		pages = append(pages, body)
	}
	// A page of more rows than a scanner keeps room for, and one cut
	// inside a row.
	pages = append(pages, []byte(`<div id="usedcarList"><ul>`+strings.Repeat(`<li><a class="name" href="/h">T</a>`+
		`<div class="col year"><span class="middle">2021</span></div></li>`, 2*maxKeptRows)+`</ul></div>`))
	pages = append(pages, []byte(`<div class="list_top"><b class="count"><em>1`))
	kept := new(scanner)
	for _, before := range pages {
		for _, page := range pages {
			_, _ = kept.scan(before)
			kept.reset()
			want, wantErr := new(scanner).scan(page)
			got, err := kept.scan(page)
			require.Equal(t, wantErr, err)
			if wantErr != nil {
				continue
			}
			assert.Equal(t, scannedRows(want), scannedRows(got))
			assert.Equal(t, [3]any{want.list, want.hasTot, string(want.total)}, [3]any{got.list, got.hasTot, string(got.total)})
			assert.Equal(t, [2]any{want.hasBase, string(want.base)}, [2]any{got.hasBase, string(got.base)})
		}
	}
}

// TestScanTotalAndBase: the count above the list and <base href> are
// read anywhere on the page.
func TestScanTotalAndBase(t *testing.T) {
	p, err := new(scanner).scan([]byte(`<HEAD><BASE HREF='https://m.danawa.com/a?x=1&amp;y=2'></HEAD><div class="list_top"><strong class='count'>` +
		"총 <em>1,<!-- -->234</em>대</strong></div><div id=usedcarList></div>"))
	require.NoError(t, err)
	assert.True(t, p.list)
	assert.True(t, p.hasTot)
	assert.Equal(t, "1,234", string(p.total))
	assert.True(t, p.hasBase)
	assert.Equal(t, "https://m.danawa.com/a?x=1&y=2", string(attrValue(p.base)))

	p, err = new(scanner).scan([]byte(`<div id="usedcarListV2"><ul><li><a class="name" href="/h">T</a></li></ul></div>`))
	require.NoError(t, err)
	assert.False(t, p.list, "another id is no list")
	assert.Empty(t, p.rows)
}

// TestScanDepthBounded: a page nesting elements deeper than any real page
// is drift, so no step of the scan walks an unbounded stack; 512 levels
// are still read.
func TestScanDepthBounded(t *testing.T) {
	page := func(depth int) []byte { // depth elements open at the deepest: 3, depth-5 divs, 2
		return []byte(`<div id="usedcarList"><ul><li><a class="name" href="/x?partner=kcar&amp;carSeq=1">기아 레이</a>` +
			strings.Repeat("<div>", depth-5) + `<div class="col year"><span class="middle">2021</span></div>` +
			`<div class="col km"><span class="middle">1,000km</span></div><div class="col price"><span class="num">900</span></div>`)
	}
	p, err := new(scanner).scan(page(maxDepth))
	require.NoError(t, err)
	require.Len(t, p.rows, 1)
	assert.Equal(t, "2021", string(p.rows[0].text[fYear]))

	_, err = ExtractList(page(maxDepth+1), 1)
	require.ErrorIs(t, err, sources.ErrDrift)
	assert.Contains(t, err.Error(), "nested deeper than 512")
}

// TestScanImpliedEnds: end tags that HTML lets a page leave out are implied
// as the parser implies them, so long forms, tables and runs of bare
// paragraphs are siblings, not 600 levels of nesting, and the row after
// them reads as it would without them.
func TestScanImpliedEnds(t *testing.T) {
	const row = `<div id="usedcarList"><ul><li><p>광고<div class="col year"><span class="middle">2021</span></div>` +
		`<p><div class="col km"><span class="middle">1,000km</span></div></li></ul></div>`
	for name, before := range map[string]string{
		"options":            "<select>" + strings.Repeat("<option>모델", 600) + "</select>",
		"options in groups":  "<select>" + strings.Repeat("<optgroup label=g><option>a<option>b", 300) + "</select>",
		"paragraphs":         strings.Repeat("<p>본문", 600),
		"paragraphs in divs": strings.Repeat("<p>본문<div>x</div>", 600),
		"table rows":         "<table>" + strings.Repeat("<tr><td>a<td>b<th>c", 600) + "</table>",
		"table sections":     "<table>" + strings.Repeat("<thead><tr><td>a<tbody><tr><td>b", 300) + "</table>",
		"definitions":        "<dl>" + strings.Repeat("<dt>연식<dd>2021", 600) + "</dl>",
		"list items":         "<ul>" + strings.Repeat("<li>항목", 600) + "</ul>",
	} {
		p, err := new(scanner).scan([]byte(before + row))
		if !assert.NoError(t, err, name) || !assert.Len(t, p.rows, 1, name) {
			continue
		}
		assert.Equal(t, "2021", string(p.rows[0].text[fYear]), name)
		assert.Equal(t, "1,000km", string(p.rows[0].text[fKm]), name)
	}
	// Elements whose end tag may not be left out still nest, and a page
	// nesting them past the bound is drift (TestScanDepthBounded).
	_, err := new(scanner).scan([]byte(strings.Repeat("<span>", maxDepth+1) + row))
	assert.ErrorContains(t, err, "nested deeper")
}

// TestMemoKeepsNoHugeKey: a value longer than any real title, link or
// photo is computed every time, never kept.
func TestMemoKeepsNoHugeKey(t *testing.T) {
	c := &memo[int]{m: make(map[string]int)}
	calls := 0
	compute := func() int { calls++; return 7 }
	huge := bytes.Repeat([]byte("a"), maxMemoKey+1)
	assert.Equal(t, 7, c.get(huge, compute))
	assert.Equal(t, 7, c.get(huge, compute))
	assert.Equal(t, 2, calls)
	assert.Empty(t, c.m)
	assert.Equal(t, 7, c.get([]byte("기아 레이"), compute))
	assert.Equal(t, 7, c.get([]byte("기아 레이"), compute))
	assert.Equal(t, 3, calls, "a short key is remembered")
}

// TestClassesOf: the class names found in a class attribute are those a
// plain split of its decoded value finds, whatever surrounds them.
func TestClassesOf(t *testing.T) {
	known := map[string]class{
		"col": clCol, "year": clYear, "km": clKm, "price": clPrice, "area": clArea, "date": clDate,
		"middle": clMiddle, "num": clNum, "name": clName, "list_top": clListTop, "count": clCount,
	}
	want := func(v string) class {
		var cl class
		for _, w := range strings.FieldsFunc(string(attrValue([]byte(v))), func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) {
			cl |= known[w]
		}
		return cl
	}
	words := []string{"", "col", "Col", "cols", "co", "list_top", "list_topx", "LIST_TOP", "middle", "num", "number",
		"km", "k", "&#99;ol", "col&amp;", "&amp;", "year\x00", "\x00", "가격", "price\r", "date", "name", "area", "count"}
	seps := []string{" ", "  ", "\t", "\n", "\r\n", "\f", "\u00a0"}
	var memo classMemo
	for _, a := range words {
		for _, b := range words {
			for _, sep := range seps {
				for _, v := range []string{a + sep + b, sep + a + sep + b + sep} {
					if got := classesOf([]byte(v), span{0, len(v)}); got != want(v) {
						t.Fatalf("classesOf(%q) = %b, want %b", v, got, want(v))
					}
					// In a page, where bytes after the value are loaded with its last word.
					if got := classesOf([]byte(`"`+v+`" id="col">`), span{1, 1 + len(v)}); got != want(v) {
						t.Fatalf("classesOf(%q) in a tag = %b, want %b", v, got, want(v))
					}
					// Remembered, among many other values.
					for range 2 {
						if got := memo.classesOf([]byte(`"`+v+`"`), span{1, 1 + len(v)}); got != want(v) {
							t.Fatalf("classesOf(%q) remembered = %b, want %b", v, got, want(v))
						}
					}
				}
			}
		}
	}
	if classesOf([]byte(" col  price "), span{0, 12}) != clCol|clPrice {
		t.Fatal(`" col  price " is not .col.price`)
	}
}

// TestPlain: a text is plain when it holds no '&', CR or NUL, wherever one
// is.
func TestPlain(t *testing.T) {
	for n := range 20 {
		for i := range n {
			for _, c := range []byte{'&', '\r', 0, 'a', '\n', 0x80 | '&', '&' - 1, '&' + 1, 0xff, 1} {
				v := bytes.Repeat([]byte("가"), n)[:n]
				v[i] = c
				want := !bytes.ContainsAny(v, "&\r\x00")
				if plain(v) != want {
					t.Fatalf("plain(%q) = %v", v, !want)
				}
			}
		}
	}
}

// TestScannerKeepsNoPage: once reset, a scanner holds nothing of the page
// it read, so a pooled one does not keep a body alive. The page has more
// rows than one slab, and its first row a title that opens two captures at
// once: the capture popped last points into the first slab, which the
// scanner no longer holds but for it.
func TestScannerKeepsNoPage(t *testing.T) {
	first := `<li><a class="name" href="/h">T<div class="col year"><span class="middle">2021</span></div></a>` +
		`<div class="col year"><span class="middle">2021</span></div></li>`
	row := `<li><a class="name" href="/h">T</a><div class="col year"><span class="middle">2021</span></div></li>`
	body := []byte(`<div id="usedcarList"><ul>` + first + strings.Repeat(row, 40) + `</ul></div>` + strings.Repeat(" ", 1<<20))
	s := new(scanner)
	p, err := s.scan(body)
	require.NoError(t, err)
	require.Len(t, p.rows, 41)
	s.reset()
	gone := weak.Make(&body[0])
	body, p = nil, nil
	runtime.GC()
	runtime.GC()
	assert.Nil(t, gone.Value(), "the page is still reachable from a reset scanner")
	runtime.KeepAlive(s)
}
