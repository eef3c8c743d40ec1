package danawa

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/lmn/aggregator/internal/golden"
)

// lexerTokens is what the scan sees of a page through the lexer: text
// (adjacent pieces joined), tags with their lower-case names and the four
// attributes it reads, decoded.
func lexerTokens(body []byte) []string {
	var out []string
	var text []byte
	flush := func() {
		if len(text) > 0 {
			out = append(out, fmt.Sprintf("text %q", text))
			text = nil
		}
	}
	z := lexer{b: body}
	var t token
	for z.next(&t); t.kind != tokEOF; z.next(&t) {
		switch t.kind {
		case tokText:
			text = appendText(text, t.text.in(body), t.mode)
		case tokEnd:
			flush()
			out = append(out, "end "+tagName(t.name.in(body)))
		case tokStart:
			flush()
			s := "start " + tagName(t.name.in(body))
			for _, a := range []struct {
				key string
				has bool
				val span
			}{{"class", t.hasClass, t.class}, {"id", t.hasID, t.id}, {"href", t.hasHref, t.href}, {"src", t.hasSrc, t.src}} {
				if a.has {
					s += fmt.Sprintf(" %s=%q", a.key, attrValue(a.val.in(body)))
				}
			}
			out = append(out, s)
		}
	}
	flush()
	return out
}

// tagName is a name as the Tokenizer gives it: NUL replaced, ASCII
// letters lower-cased.
func tagName(b []byte) string {
	out := bytes.ReplaceAll(b, []byte{0}, []byte("\ufffd"))
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return string(out)
}

// tokenizerTokens is the same view through x/net/html's Tokenizer.
func tokenizerTokens(body []byte) []string {
	var out []string
	var text []byte
	flush := func() {
		if len(text) > 0 {
			out = append(out, fmt.Sprintf("text %q", text))
			text = nil
		}
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			flush()
			return out
		case html.TextToken:
			text = append(text, z.Text()...)
		case html.EndTagToken:
			flush()
			name, _ := z.TagName()
			out = append(out, "end "+string(name))
		case html.StartTagToken, html.SelfClosingTagToken:
			flush()
			name, more := z.TagName()
			vals := map[string]string{}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				vals[string(k)] = string(v)
			}
			s := "start " + string(name)
			for _, key := range []string{"class", "id", "href", "src"} {
				if v, ok := vals[key]; ok {
					s += fmt.Sprintf(" %s=%q", key, v)
				}
			}
			out = append(out, s)
		}
	}
}

// lexerSeeds are shapes where a page's bytes can be read two ways.
var lexerSeeds = []string{
	`<div class="col year"><span class=middle>2021</span></div>`,
	`<DIV CLASS='col  km'><SPAN Class="middle">79,959km</SPAN></DIV>`,
	`<a class="name" href="/b.php?partner=kcar&amp;carSeq=1&copy=2&amp=3&ampx&#39;&#x41;&#65&lt;">a &amp; b &#39;c&#39; &ampd &notit; &notin;</a>`,
	"<p>one\r\ntwo\rthree\n</p>",
	`<!-- <li class="item"> --><!--><!---><!-- a --!> b --><!DOCTYPE html><!x><?xml ?></ x></>`,
	`<script>if (a < b) { s = "</li><li class='item'>"; } </script ><style>.a>.b{}</style>`,
	`<script><!-- <script> x </script> y --> </script><p>after</p>`,
	`<script><!--<SCRIPT/></script>x</SCRIPT >-->y</script>z<script><!--<scriptx></script>w`,
	`<script><!-- a -><- -- > --></script><script><!-></script><script><!--</scripty></script>`,
	`<ScRiPt>a</sCrIpT><STYLE>b</style ><title>c</title/><iframe>d</iframe x><noscript><i>e</noscript>`,
	`<textarea><b>&amp;</b></textarea><title>a&lt;b</title><xmp><i></xmp>`,
	"<br/><img src=/x.jpg/><a href=x/>t</a><li class=a/b>",
	"<a href='x' href='y' HREF=z class=name>dup</a>",
	"a < b <3 <= c",
	"<a href=\"x\x00y\">\x00</a><x\x00y></x\x00y>",
	"text</",
	"<div class=\"tail",
	"<plaintext><b>all text",
	"<a =x class = 'name' / href = \"h\" >",
	"<a ID=x hReF=y SrC=z ClAsS=name><b clas=x classs=y cLaSs=z c\x00ass=w =id=v CLASS=u>",
	"<DIV\fCLASS=a><Span/><SPANS><spanx></SpAn><h1></H1><x-y></X-Y><abcdefghi></ABCDEFGHI>",
}

// FuzzLexerMatchesTokenizer: on any input the lexer yields the text, tags
// and attribute values x/net/html's Tokenizer yields.
func FuzzLexerMatchesTokenizer(f *testing.F) {
	golden.Seed(f, testdata)
	for _, s := range lexerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, want := lexerTokens(body), tokenizerTokens(body)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("lexer:\n%s\ntokenizer:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestTagAtom: the key the lexer packs a name into is packName's, and the
// table's answer for it is atom.Lookup's for the name lower-cased, for
// every name of one or two bytes, names of three made of letters and their
// neighbours in ASCII, and every case of the names in the table.
func TestTagAtom(t *testing.T) {
	check := func(name []byte) {
		t.Helper()
		end, key := readName(name, 0)
		if end < len(name) {
			return // no tag has this name: it ends at a space, '/' or '>'
		}
		// Read again where the bytes after it are loaded with it.
		if _, again := readName(append(slices.Clip(name), " class=x>"...), 0); again != key {
			t.Fatalf("readName(%q) packs %#x at the end of the page, %#x before more", name, key, again)
		}
		if want, ok := packName(name); key != want || ok != (key != 0) {
			t.Fatalf("readName(%q) packs %#x, packName %#x, %v", name, key, want, ok)
		}
		if got, want := tagAtom(key, name), lookupTag(name); got != want {
			t.Fatalf("tagAtom(%q) = %v, atom.Lookup says %v", name, got, want)
		}
	}
	for i := range 1 << 8 {
		check([]byte{byte(i)})
	}
	for i := range 1 << 16 {
		check([]byte{byte(i), byte(i >> 8)})
	}
	alphabet := []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@[`{\x00\xc1\xe1-")
	for _, a := range alphabet {
		for _, b := range alphabet {
			for _, c := range alphabet {
				check([]byte{a, b, c})
			}
		}
	}
	held := 0
	for _, e := range tagTable {
		if e.key == 0 {
			continue
		}
		held++
		name := e.a.String()
		for mask := range 1 << len(name) { // every mix of upper and lower case
			b := []byte(name)
			for i := range b {
				if mask&(1<<i) != 0 {
					b[i] -= 'a' - 'A'
				}
			}
			check(b)
			check(append(b, 'x'))
			check(b[:len(b)-1])
		}
	}
	if held < 50 {
		t.Fatalf("the table holds %d tags", held)
	}
}
