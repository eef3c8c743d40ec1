package danawa

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
			p := scan([]byte(c.page))
			assert.True(t, p.list)
			assert.Equal(t, c.want, scannedRows(p))
		})
	}
}

// TestScanTotalAndBase: the count above the list and <base href> are
// read anywhere on the page.
func TestScanTotalAndBase(t *testing.T) {
	p := scan([]byte(`<HEAD><BASE HREF='https://m.danawa.com/a?x=1&amp;y=2'></HEAD><div class="list_top"><strong class='count'>` +
		"총 <em>1,<!-- -->234</em>대</strong></div><div id=usedcarList></div>"))
	assert.True(t, p.list)
	assert.True(t, p.hasTot)
	assert.Equal(t, "1,234", string(p.total))
	assert.True(t, p.hasBase)
	assert.Equal(t, "https://m.danawa.com/a?x=1&y=2", string(attrValue(p.base)))

	p = scan([]byte(`<div id="usedcarListV2"><ul><li><a class="name" href="/h">T</a></li></ul></div>`))
	assert.False(t, p.list, "another id is no list")
	assert.Empty(t, p.rows)
}
