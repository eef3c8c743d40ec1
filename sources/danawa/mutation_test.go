package danawa

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// mutation is a realistic change to a page: the extractor must report it
// as drift or still read the page right; a wrong value is the one outcome
// that fails. The table is the extractor's contract: a rewrite of the
// extractor must keep every line of it.
type mutation struct {
	name    string
	edit    func(string) string
	page    int                     // the page asked for; 0 is 1
	drift   bool                    // want ErrDrift
	correct func(*testing.T, *List) // else: what must still be read, and read right
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("mutation does not apply: " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func replaceAll(re, new string) func(string) string {
	r := regexp.MustCompile(re)
	return func(s string) string {
		if !r.MatchString(s) {
			panic("mutation does not apply: " + re)
		}
		return r.ReplaceAllString(s, new)
	}
}

// The first row of list-rows.html, read off the page by hand.
const firstRowID = "danawa_kcar-1001"

func rowByID(t *testing.T, l *List, id string) vehicle.Vehicle {
	t.Helper()
	for _, v := range l.Rows {
		if v.ID == id {
			return v
		}
	}
	t.Fatalf("row %s not read", id)
	return vehicle.Vehicle{}
}

func firstRow(want func(*testing.T, vehicle.Vehicle)) func(*testing.T, *List) {
	return func(t *testing.T, l *List) { want(t, rowByID(t, l, firstRowID)) }
}

var danawaMutations = []mutation{
	{name: "mileage with a dot for grouping", edit: replace("79,959km", "79.959km"), drift: true},
	{name: "mileage without its unit", edit: replace("79,959km", "79,959"), drift: true},
	{name: "mileage in 만 units", edit: replace("79,959km", "7.9만km"), drift: true},
	{name: "mileage absurdly high", edit: replace("79,959km", "79,959,000km"), drift: true},
	{name: "mileage negative", edit: replace("79,959km", "-79,959km"), drift: true},
	{name: "mileage with a space before km", edit: replace("79,959km", "79,959 km"), correct: firstRow(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 79959, v.MileageKm) })},
	{name: "mileage unit upper-case", edit: replace("79,959km", "79,959KM"), correct: firstRow(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 79959, v.MileageKm) })},
	{name: "mileage without grouping", edit: replace("79,959km", "79959km"), correct: firstRow(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 79959, v.MileageKm) })},
	{name: "price in won, not 만원", edit: replace(">3,750<", ">37,500,000<"), drift: true},
	{name: "price with a dot", edit: replace(">3,750<", ">3.750<"), drift: true},
	{name: "price with its unit glued", edit: replace(">3,750<", ">3,750만<"), drift: true},
	{name: "price of 1", edit: replace(">3,750<", ">1<"), drift: true},
	{name: "price negative", edit: replace(">3,750<", ">-3,750<"), drift: true},
	{name: "price asked, not shown", edit: replace(">3,750<", ">상담<"), correct: func(t *testing.T, l *List) {
		for _, v := range l.Rows {
			assert.NotEqual(t, firstRowID, v.ID, "a car without a price is left out")
		}
		assert.Equal(t, 8, l.Raw, "but paging still counts it")
	}},
	{name: "model year as 21년", edit: replace(`<span class="middle">2021</span>`, `<span class="middle">21년</span>`), drift: true},
	{name: "model year with month", edit: replace(`<span class="middle">2021</span>`, `<span class="middle">2021.03</span>`), drift: true},
	{name: "year column gone", edit: replace(`<div class="col year"><span class="top">연식</span><span class="middle">2021</span></div>`, ""), drift: true},
	{name: "km column renamed", edit: replaceAll(`class="col km"`, `class="col mileage"`), drift: true},
	{name: "price .num renamed", edit: replaceAll(`class="num"`, `class="number"`), drift: true},
	{name: "a.name renamed", edit: replaceAll(`class="name"`, `class="title"`), drift: true},
	{name: "list container renamed", edit: replace(`id="usedcarList"`, `id="carList"`), drift: true},
	{name: "list emptied while the count says 1,234", edit: replaceAll(`(?s)<ul>.*</ul>`, "<ul></ul>"), drift: true},
	{name: "a page past the end: empty, the count still 1,234", page: 63, edit: replaceAll(`(?s)<ul>.*</ul>`, "<ul></ul>"),
		correct: func(t *testing.T, l *List) { assert.Empty(t, l.Rows); assert.Zero(t, l.Raw) }},
	{name: "columns reordered", edit: replace(`<div class="col year"><span class="top">연식</span><span class="middle">2021</span></div>
      <div class="col km"><span class="middle">79,959km</span></div>`, `<div class="col km"><span class="middle">79,959km</span></div>
      <div class="col year"><span class="top">연식</span><span class="middle">2021</span></div>`),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [2]int{2021, 79959}, [2]int{v.Year, v.MileageKm})
		})},
	{name: "bridge link's parameters renamed", edit: replaceAll(`partner=kcar&amp;carSeq=1001`, `site=kcar&amp;cid=1001`),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, firstRowID, v.ID) })},
	{name: "bridge link with a cache-buster", edit: replaceAll(`partner=kcar&amp;carSeq=1001&amp;`, `ts=1718000000&amp;partner=kcar&amp;carSeq=1001&amp;`),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, firstRowID, v.ID) })},
	{name: "bridge link absolute", edit: replaceAll(`"/usedcar/loadingBridge.php\?partner=kcar&amp;carSeq=1001`, `"https://auto.danawa.com/usedcar/loadingBridge.php?partner=kcar&amp;carSeq=1001`),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, firstRowID, v.ID)
			assert.Equal(t, "https://auto.danawa.com/usedcar/loadingBridge.php?partner=kcar&carSeq=1001&url=https%3A%2F%2Fpartner.example%2Fcar%2F1001", v.SourceURL)
		})},
	{name: "one row's link of a shape never seen", edit: replaceAll(`/usedcar/loadingBridge.php\?partner=kcar&amp;carSeq=1001&amp;url=https%3A%2F%2Fpartner.example%2Fcar%2F1001`, `javascript:void(0)`),
		correct: func(t *testing.T, l *List) {
			assert.Equal(t, 1, l.Skipped)
			assert.Len(t, l.Rows, 6, "the other rows are read")
		}},
	{name: "every row's link of a shape never seen", edit: replaceAll(`/usedcar/loadingBridge.php\?[^"]*`, `#`), drift: true},
	{name: "count above the list gone", edit: replace(`<strong class="count">총 <em>1,234</em>대</strong>`, ""),
		correct: func(t *testing.T, l *List) { assert.Equal(t, -1, l.Total); assert.Len(t, l.Rows, 7) }},
	{name: "count written with a dot", edit: replace(`<em>1,234</em>`, `<em>1.234</em>`),
		correct: func(t *testing.T, l *List) { assert.Equal(t, -1, l.Total, "unknown, not 1") }},
	{name: "area column gone", edit: replace(`<div class="col area"><span class="middle">경기</span></div>`, ""),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) { assert.Nil(t, v.Seller, "region unknown, not empty") })},
	{name: "date in another format", edit: replace(`2025.06.12`, `06/12`),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) { assert.True(t, v.ListedAt.IsZero(), "unknown, not a wrong day") })},
	{name: "title of an unknown make", edit: replace(`벤츠 E클래스(5세대) E250 익스클루시브`, `부가티 시론 8.0`),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, "부가티", v.Make, "raw text kept, counted as a dictionary miss")
		})},
	{name: "an ad between rows", edit: replace(`<li class="spacer"></li>`, `<li class="ad"><a href="/ad">광고</a></li>`),
		correct: func(t *testing.T, l *List) { assert.Len(t, l.Rows, 7) }},
	{name: "CRLF line endings", edit: replaceAll("\n", "\r\n"),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [3]int{2021, 79959, 37_500_000}, [3]int{v.Year, v.MileageKm, int(v.PriceKRW)})
			assert.Equal(t, "E250 익스클루시브", v.Trim)
		})},
	{name: "row markup inside a script and a comment before the list",
		edit: replace(`<div id="usedcarList">`, `<script>var tpl = '<div id="usedcarList"><ul><li><a class="name" href="/x?carSeq=9">가짜</a></li></ul></div>';</script>`+
			`<!-- <li><a class="name" href="/x?carSeq=8">가짜</a><div class="col price"><span class="num">1</span></div></li> --><div id="usedcarList">`),
		correct: func(t *testing.T, l *List) { assert.Len(t, l.Rows, 7); assert.Equal(t, 8, l.Raw) }},
	{name: "upper-case tags, single quotes, no quotes", edit: replace(`<div class="col year"><span class="top">연식</span><span class="middle">2021</span></div>`,
		`<DIV CLASS='col year'><SPAN class=top>연식</SPAN><SPAN Class=middle>2021</SPAN></DIV>`),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 2021, v.Year) })},
	{name: "photo relative", edit: replace(`https://img.danawa.com/usedcar/1001.jpg`, `/img/1001.jpg`),
		correct: firstRow(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, "https://auto.danawa.com/img/1001.jpg", v.PhotoURL)
		})},
}

// TestMutations applies each mutation to list-rows.html.
func TestMutations(t *testing.T) {
	base, err := os.ReadFile(testdata + "/list-rows.html")
	require.NoError(t, err)
	drift, correct := 0, 0
	for _, m := range danawaMutations {
		t.Run(m.name, func(t *testing.T) {
			l, err := ExtractList([]byte(m.edit(string(base))), max(m.page, 1))
			if m.drift {
				require.ErrorIs(t, err, sources.ErrDrift)
				drift++
				return
			}
			require.NoError(t, err)
			require.NotNil(t, m.correct)
			m.correct(t, l)
			if !t.Failed() {
				correct++
			}
		})
	}
	t.Logf("danawa: %d mutations, %d reported as drift, %d read correctly", len(danawaMutations), drift, correct)
	assert.Equal(t, len(danawaMutations), drift+correct)
}
