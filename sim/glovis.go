package sim

import (
	"fmt"
	"html"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lmn/aggregator/korean"
)

// The simulated auction: weekly live rounds, Fridays at 13:00, at four
// sites. Results are posted a few hours after a round starts; a car that
// does not sell comes back in the next round (at most three times), so
// auction.count > 1 and several auction dates exist at once.
var glovisRounds = []glovisRound{
	{944, time.Date(2025, 6, 6, 13, 0, 0, 0, kst)},
	{945, time.Date(2025, 6, 13, 13, 0, 0, 0, kst)},
	{946, time.Date(2025, 6, 20, 13, 0, 0, 0, kst)},
	{947, time.Date(2025, 6, 27, 13, 0, 0, 0, kst)},
	{948, time.Date(2025, 7, 4, 13, 0, 0, 0, kst)},
}

type glovisRound struct {
	number int
	date   time.Time
}

// ResultsAfter is how long after a round starts its results show.
const ResultsAfter = 4 * time.Hour

var siteCodes = []string{"1100", "2100", "3100", "5100"}
var siteNames = map[string]string{"1100": "분당", "2100": "시화", "3100": "양산", "5100": "인천"}

// Results a round can give a lot, in the words of the list's state tag.
const (
	resultSold            = "낙찰"
	resultSoldConditional = "낙찰(부)"
	resultNegotiationSold = "상담체결"
	resultNegotiation     = "상담접수"
	resultNoBid           = "유찰"
)

// lot is one exhibit: a car put up in one round. A car that comes back is
// a new lot (new lot number and gn) with the same goods number and plate.
type lot struct {
	car
	round   int // index in glovisRounds
	result  string
	rc      string
	no      int
	goods   string
	gn      string
	grade   string // "A/4", or "- / -"
	minBid  bool   // 최저입찰가 instead of 시작가
	lane    string
	usage   string
	gcolor  string // Glovis' colour word
	reserve int    // 희망가 shown after the auction, 만원; 0 for none
	flagTag bool   // the result shows in the flag box as well as the state tag
}

// glovisExtra are models Glovis lists that dealers in the simulation do
// not: older and rarer cars whose names the dictionary must know.
var glovisExtra = []model{
	{"현대", "현대", "현대", true, "제네시스", []string{"제네시스 DH", "제네시스 BH"}, []string{"G330 모던", "BH330 럭셔리"}, []string{"가솔린"}, 3342, 1500},
	{"쉐보레(GM대우)", "쉐보레(GM대우)", "쉐보레", true, "임팔라", []string{"임팔라"}, []string{"3.6 LTZ", "2.5 LT"}, []string{"가솔린"}, 3564, 1600},
	{"쉐보레(GM대우)", "쉐보레(GM대우)", "쉐보레", true, "캡티바", []string{"캡티바"}, []string{"2.0 디젤 LT", "2.2 디젤 LTZ"}, []string{"디젤"}, 1998, 900},
	{"쉐보레(GM대우)", "쉐보레(GM대우)", "쉐보레", true, "알페온", []string{"알페온"}, []string{"2.4 EL240 디럭스", "3.0 EL300 슈프림"}, []string{"가솔린"}, 2384, 700},
}

// glovisColor is how Glovis writes a colour: short words.
var glovisColor = map[string]string{"검정색": "검정", "흰색": "흰색", "회색": "회색", "은색": "은색", "진주색": "진주색", "파란색": "파랑", "빨간색": "빨강", "쥐색": "쥐색", "-": "-"}

// glovisRareColors are colour words only Glovis uses.
var glovisRareColors = []string{"미색", "노랑", "초록", "주황", "갈대"}

// fuelWords are the Encar fuel words for the fuels a title can name.
var fuelWords = map[string]string{"hybrid": "가솔린+전기", "diesel": "디젤", "lpg": "LPG", "electric": "전기", "gasoline": "가솔린"}

func generateLots(r *rand.Rand, n int) []lot {
	cars := generate(r, n, 0)
	var lots []lot
	next := map[[2]int]int{} // {round, site} → last lot number
	for i := range cars {
		c := cars[i]
		if i%15 == 7 {
			c.m = &glovisExtra[r.IntN(len(glovisExtra))]
			c.gen, c.trim = c.m.gens[r.IntN(len(c.m.gens))], c.m.trims[r.IntN(len(c.m.trims))]
			c.fuel = c.m.fuels[r.IntN(len(c.m.fuels))]
			c.price = max(c.m.price*(10-min(2025-c.year, 8))/10, 150)
		}
		// A lot's fuel is what its title says, when the title says one.
		if f := korean.FuelInText(c.gen + " " + c.trim); f != "" {
			c.fuel = fuelWords[f]
		}
		site := r.IntN(len(siteCodes))
		base := lot{car: c, rc: siteCodes[site], usage: "법인상품용", gcolor: glovisColor[c.color]}
		letter := "ABCD"[site]
		base.goods = fmt.Sprintf("%c2506%05d", letter, i+1)
		base.grade = fmt.Sprintf("%c/%d", "AAABBCDF"[r.IntN(8)], 1+r.IntN(8))
		if r.IntN(25) == 0 {
			base.grade = "- / -"
		}
		switch x := r.IntN(60); {
		case x < 2:
			base.gcolor = "-"
		case x < 5:
			base.gcolor = glovisRareColors[r.IntN(len(glovisRareColors))]
		}
		base.minBid = r.IntN(10) == 0
		if r.IntN(5) == 0 {
			base.usage = "자가용"
		}
		first := r.IntN(len(glovisRounds))
		for attempt := 1; first+attempt-1 < len(glovisRounds) && attempt <= 3; attempt++ {
			l := base
			l.round = first + attempt - 1
			key := [2]int{l.round, site}
			next[key]++
			l.no = 1000 + next[key]
			l.gn = fmt.Sprintf("gn%06dx%d==", i+1, attempt)
			l.price = max(c.price*(20-attempt+1)/20, 30) // a little cheaper each time
			if r.IntN(4) != 0 {
				l.lane = string(rune('A' + r.IntN(4)))
			}
			if r.IntN(3) == 0 {
				l.reserve = l.price + l.price/10
			}
			l.flagTag = r.IntN(2) == 0
			switch x := r.IntN(100); {
			case x < 40:
				l.result = resultSold
			case x < 45:
				l.result = resultSoldConditional
			case x < 55:
				l.result = resultNegotiationSold
			case x < 65:
				l.result = resultNegotiation
			default:
				l.result = resultNoBid
			}
			lots = append(lots, l)
			if l.result != resultNoBid && l.result != resultNegotiation {
				break
			}
		}
	}
	return lots
}

// glovisBracket is how a Glovis title spells a make: Chevrolet is
// "[쉐보레(대우)]" there.
func glovisBracket(m *model) string {
	if m.glovis == "쉐보레" {
		return "쉐보레(대우)"
	}
	return m.glovis
}

// shownRounds are the rounds the selector offers at now: the last one
// that has started (with its results) and the next one.
func shownRounds(now time.Time) []glovisRound {
	var out []glovisRound
	for i, rd := range glovisRounds {
		if !rd.date.After(now) && (i+1 == len(glovisRounds) || glovisRounds[i+1].date.After(now)) {
			out = append(out, rd)
		}
		if rd.date.After(now) {
			out = append(out, rd)
			break
		}
	}
	return out
}

// state is what the site says of l at now: "" before its round, 경매진행
// while the round runs, then the result.
func (l *lot) state(now time.Time) string {
	d := glovisRounds[l.round].date
	switch {
	case now.Before(d):
		return ""
	case now.Before(d.Add(ResultsAfter)):
		return "경매진행"
	}
	return l.result
}

// GlovisLot is a lot as the simulated site shows it now.
type GlovisLot struct {
	ID     string    // the id the service gives the lot
	Goods  string    // goods number: the physical car
	Date   time.Time // its round's start
	Status string    // the contract's auction status
	Listed bool      // its round is in the round selector

	Make, ModelGroup string // Korean, as Encar names them
	Fuel             string // Encar's word for the fuel the list shows
	Manual           bool
	Year             int // model year
	MileageKm        int
	PriceManwon      int    // start price
	Color            string // Glovis' colour word; "-" for none
	Grade            string // "A/4" (accident letter / exterior 1..8), or "- / -"
}

// resultStatus is the contract's status for each state.
var resultStatus = map[string]string{
	"": "upcoming", "경매진행": "upcoming", resultSold: "sold", resultSoldConditional: "sold",
	resultNegotiationSold: "negotiation_sold", resultNegotiation: "negotiation_requested", resultNoBid: "no_bid",
}

// GlovisLots returns every lot the simulation holds, as it stands at the
// simulator's clock, for tests to compute what the service should serve.
func (s *Sim) GlovisLots() []GlovisLot {
	now := s.Now()
	shown := map[int]bool{}
	for _, rd := range shownRounds(now) {
		shown[rd.number] = true
	}
	out := make([]GlovisLot, len(s.glovis))
	for i := range s.glovis {
		l := &s.glovis[i]
		rd := glovisRounds[l.round]
		out[i] = GlovisLot{
			ID:    fmt.Sprintf("glovis_%s_%s_%d", rd.date.Format("20060102"), l.rc, l.no),
			Goods: l.goods, Date: rd.date, Status: resultStatus[l.state(now)], Listed: shown[rd.number],
			Make: l.m.make_, ModelGroup: l.m.group, Fuel: l.fuel, Manual: !l.auto, Year: l.year, MileageKm: l.km,
			PriceManwon: l.price, Color: l.gcolor, Grade: l.grade,
		}
	}
	return out
}

func (s *Sim) glovisRounds(r *http.Request, drift bool) page {
	rounds := shownRounds(s.Now())
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>현대글로비스</title></head><body><select id="selAtn" name="atn">`)
	for i, rd := range rounds {
		sel := ""
		if i == len(rounds)-1 {
			sel = " selected"
		}
		fmt.Fprintf(&b, `<option value="%d"%s>실시간경매 %d회 %s(금)</option>`, rd.number, sel, rd.number, rd.date.Format("2006-01-02"))
	}
	b.WriteString(`</select>`)
	fmt.Fprintf(&b, `<input type="hidden" id="auctstardt" value="%s"/>`, rounds[len(rounds)-1].date.Format("20060102150405"))
	b.WriteString(`<div id="exhibitListArea"></div></body></html>`)
	return page{http.StatusOK, "text/html; charset=utf-8", []byte(b.String())}
}

func (s *Sim) glovisList(r *http.Request, drift bool) page {
	if err := r.ParseForm(); err != nil {
		return page{http.StatusBadRequest, "text/html", []byte("bad form")}
	}
	atn, _ := strconv.Atoi(r.PostForm.Get("atn"))
	rc := r.PostForm.Get("rc")
	pageNo, err := strconv.Atoi(r.PostForm.Get("page"))
	if err != nil || pageNo < 1 {
		pageNo = 1
	}
	rowLimit, err := strconv.Atoi(r.PostForm.Get("rowLimit"))
	if err != nil || (rowLimit != 18 && rowLimit != 48 && rowLimit != 99) {
		rowLimit = 18
	}
	var matched []*lot
	for i := range s.glovis {
		if glovisRounds[s.glovis[i].round].number == atn && (rc == "" || s.glovis[i].rc == rc) {
			matched = append(matched, &s.glovis[i])
		}
	}
	now := s.Now()
	last := max((len(matched)+rowLimit-1)/rowLimit, 1)
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="ko" xml:lang="ko"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" /><title>현대글로비스</title></head><body><div id="wrap"><div class="rightcon">`)
	fmt.Fprintf(&b, `<div id="div_total"><div class="total-box"><span class="total"> 총<span> %s</span>대</span></div></div>`, comma(len(matched)))
	itemClass := "item"
	if drift {
		itemClass = "car-item"
	}
	b.WriteString(`<div id="div_list">`)
	start := (pageNo - 1) * rowLimit
	for i := start; i < len(matched) && i < start+rowLimit; i++ {
		writeLot(&b, matched[i], itemClass, i-start, now)
	}
	b.WriteString(`</div><div id="exhibit_list_paging"><div class="paging"><div class="page-button-area">`)
	b.WriteString(`<button type="button" onclick="fnPaging(1)" class="paging-first"><span class="blind">처음 페이지</span></button><div class="numbers">`)
	first := ((pageNo-1)/5)*5 + 1
	for p := first; p < first+5 && p <= last; p++ {
		if p == pageNo {
			fmt.Fprintf(&b, `<button type="button" class="on" onclick="return false;">%d</button>`, p)
		} else {
			fmt.Fprintf(&b, `<button type="button" onclick="fnPaging(%d)">%d</button>`, p, p)
		}
	}
	fmt.Fprintf(&b, `</div><button type="button" onclick="fnPaging(%d)" class="paging-next"><span class="blind">다음 페이지</span></button>`, min(first+5, last))
	fmt.Fprintf(&b, `<button type="button" onclick="fnPaging(%d)" class="paging-last"><span class="blind">마지막 페이지</span></button>`, last)
	b.WriteString(`</div></div></div></div></div></body></html>`)
	return page{http.StatusOK, "text/html; charset=utf-8", []byte(b.String())}
}

var glovisFuel = map[string]string{"가솔린": "휘발유", "디젤": "경유", "LPG": "LPG", "가솔린+전기": "하이브리드", "전기": "전기"}

func writeLot(b *strings.Builder, l *lot, class string, seq int, now time.Time) {
	state := l.state(now)
	if state == resultSold || state == resultSoldConditional || state == resultNegotiationSold {
		class += " successfully"
	}
	rd := glovisRounds[l.round]
	fmt.Fprintf(b, `<div class="%s"><!-- 낙찰, 상담체결 시 'successfully' 클래스 추가  -->`, class)
	fmt.Fprintf(b, `<a href="javascript:;" class="btn_view" gn="%s" rc="%s" acc="20" atn="%d" prodmancd="5" reprcarcd="111" detacarcd="3451" cargradcd="4">`, l.gn, l.rc, rd.number)
	flag := ""
	if state != "" && (l.flagTag || state == "경매진행") {
		flag = fmt.Sprintf(`<span class="state-flag type01"><span>%s</span></span>`, state)
	}
	img := fmt.Sprintf("https://img-auction.autobell.co.kr/OBmZCjL58I?src=https%%3A%%2F%%2Fauction.autobell.co.kr%%2FFileUpDown%%2F%s%%2Fcarimg%%2F2506%%2F%s%%2F%s_02_02.jpg&amp;type=m&amp;w=400&amp;h=250", l.rc, l.goods, l.goods)
	fmt.Fprintf(b, `<div class="view-area"><div class="flag-box">%s</div><div class="thumbnail"><img src="%s" alt="" /></div>`, flag, img)
	fmt.Fprintf(b, `<div class="entry-info"><em>출품번호</em><span>%d</span></div></div>`, l.no)
	fmt.Fprintf(b, `<div class="info-area"><div class="in-box"><div class="info-value"><span class="tag-badge small type02">%s</span>`, siteNames[l.rc])
	if state != "" && (!l.flagTag || state == "경매진행") {
		fmt.Fprintf(b, `<span class="state-tag type02">%s</span>`, state)
	}
	fmt.Fprintf(b, `<div class="entry-info"><em>출품번호</em><span>%d</span></div></div>`, l.no)
	fmt.Fprintf(b, "<span class=\"car-name\"\n>[%s] %s %s\n</span>", glovisBracket(l.m), html.EscapeString(l.gen), html.EscapeString(l.trim))
	trans := "A/T"
	if !l.auto {
		trans = "M/T"
	}
	cc := "-"
	if l.m.cc > 0 {
		cc = comma(l.m.cc) + "cc"
	}
	fmt.Fprintf(b, `<div class="option"><span>%d</span><span class="">%s</span><span>%s</span><span> %s km </span><span> %s </span><span>%s</span><span>%s</span><span>%s</span></div>`,
		l.year, trans, cc, comma(l.km), l.gcolor, glovisFuel[l.fuel], l.usage, l.grade)
	fmt.Fprintf(b, `<div class="filter-option"><span class="tag-badge small type04">%d회</span>`, rd.number)
	if l.lane != "" {
		fmt.Fprintf(b, `<span class="tag-badge small type04">레인 %s</span>`, l.lane)
	}
	fmt.Fprintf(b, `<span class="tag-badge small type04">%s</span></div></div>`, l.plate)
	label := "시작가"
	if l.minBid {
		label = "최저입찰가"
	}
	b.WriteString(`<div class="price-box">`)
	// After the auction the reserve shows too, sometimes before the start
	// price: prices are told apart by label.
	if state != "" && l.reserve > 0 && l.flagTag {
		fmt.Fprintf(b, `<div class="inner"><span>희망가</span><div class="price"><span class="num"> %s </span><span>만원</span></div></div>`, comma(l.reserve))
	}
	fmt.Fprintf(b, `<div class="inner"><span>%s</span><div class="price"><span class="num"> %s </span><span>만원</span></div></div>`, label, comma(l.price))
	if state != "" && l.reserve > 0 && !l.flagTag {
		fmt.Fprintf(b, `<div class="inner"><span>즉시체결가</span><div class="price"><span class="num"> %s </span><span>만원</span></div></div>`, comma(l.reserve))
	}
	b.WriteString(`</div></div></a>`)
	fmt.Fprintf(b, `<button type="button" class="btn-interest" data-gn="%s" id="btn_intr_%d" data-seq="%d"><span class="blind">관심차량 등록</span></button></div>`, l.gn, seq, seq)
}

func glovisLogin() page {
	return page{http.StatusOK, "text/html; charset=utf-8", []byte(`<html><head><script type="text/javascript">alert('로그인이 필요합니다.');location.href='/login.do';</script></head><body></body></html>`)}
}

// detailStatus is the detail page's word for a state: its code table has
// no 낙찰(부), and calls a lot not yet auctioned 미경매.
var detailStatus = map[string]string{"": "미경매", resultSoldConditional: resultSold}

// glovisDetail renders an exhibitView page; an unknown lot renders blank,
// as the real site does.
func (s *Sim) glovisDetail(r *http.Request, drift bool) page {
	gn := r.URL.Query().Get("gn")
	var l *lot
	for i := range s.glovis {
		if s.glovis[i].gn == gn {
			l = &s.glovis[i]
			break
		}
	}
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>현대글로비스</title></head><body>`)
	if l == nil {
		b.WriteString(`<div class="head-box"><h2 class="car-name"> </h2></div><div class="spec-box spec01"><div class="info-box"><dl><dt>연료</dt><dd></dd></dl></div></div><input type="hidden" name="stprice" id="stprice" value="0.0"/></body></html>`)
		return page{http.StatusOK, "text/html; charset=utf-8", []byte(b.String())}
	}
	trans := "A/T"
	if !l.auto {
		trans = "M/T"
	}
	boxClass := "spec-box spec01"
	if drift {
		boxClass = "spec-box-v2"
	}
	state := l.state(s.Now())
	if w, ok := detailStatus[state]; ok {
		state = w
	}
	fmt.Fprintf(&b, `<div class="head-box"><h2 class="car-name">[%s] %s %s </h2></div>`, glovisBracket(l.m), html.EscapeString(l.gen), html.EscapeString(l.trim))
	fmt.Fprintf(&b, `<div class="spec-desc"><ul><li>출품 차량은 <strong class="point">[%s] %s</strong> 차량으로 …</li><li>해당 차량은 <strong class="point">%s</strong> 차량입니다.</li></ul></div>`,
		glovisBracket(l.m), html.EscapeString(l.gen), state)
	b.WriteString(`<div class="new-car-info"><dl><dt>옵션 장착 현황</dt><dd><div class="option"> - 네비게이션 , 스마트키 , 후방카메라 , 열선시트(운전석)</div></dd></dl></div>`)
	fmt.Fprintf(&b, `<div class="%s"><div class="info-box"><dl><dt>연료</dt><dd>%s</dd><dt>배기량</dt><dd>%dcc</dd></dl>`, boxClass, glovisFuel[l.fuel], l.m.cc)
	fmt.Fprintf(&b, `<dl><dt>차량번호</dt><dd><span class="clipboard-txt" id="h_carno">%s</span></dd><dt>차대번호</dt><dd><span class="clipboard-txt" id="h_chasno">KMH%014d</span></dd>`, l.plate, l.id+1)
	fmt.Fprintf(&b, `<dt>연식</dt><dd>%d형</dd><dt>최초등록일</dt><dd>%d년 %02d월 15일</dd><dt>주행거리</dt><dd>%skm</dd><dt>색상</dt><dd>%s</dd><dt>변속기</dt><dd>%s</dd></dl></div></div>`,
		l.year, l.regYM/100, l.regYM%100, comma(l.km), l.gcolor, trans)
	fmt.Fprintf(&b, `<input type="hidden" name="stprice" id="stprice" value="%d.0"/></body></html>`, l.price)
	return page{http.StatusOK, "text/html; charset=utf-8", []byte(b.String())}
}
