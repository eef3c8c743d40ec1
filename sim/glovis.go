package sim

import (
	"fmt"
	"html"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// The simulated auction: one live round at four sites.
const (
	glovisRound = 946
	glovisDate  = "2025-06-20"
)

var siteCodes = []string{"1100", "2100", "3100", "5100"}
var siteNames = map[string]string{"1100": "분당", "2100": "시화", "3100": "양산", "5100": "인천"}

type lot struct {
	car
	rc     string
	no     int
	goods  string
	gn     string
	grade  string // "A/4", or "- / -"
	sold   bool
	minBid bool // 최저입찰가 instead of 시작가
	lane   string
	usage  string
}

func generateLots(r *rand.Rand, n int) []lot {
	cars := generate(r, n, 0)
	next := map[string]int{}
	lots := make([]lot, n)
	for i := range lots {
		rc := siteCodes[r.IntN(len(siteCodes))]
		next[rc]++
		l := lot{car: cars[i], rc: rc, no: 1000 + next[rc], usage: "법인상품용"}
		letter := map[string]string{"1100": "A", "2100": "B", "3100": "C", "5100": "D"}[rc]
		l.goods = fmt.Sprintf("%s2506%05d", letter, i+1)
		l.gn = fmt.Sprintf("gn%06dx==", i+1)
		l.grade = fmt.Sprintf("%c/%d", "AAABBCDF"[r.IntN(8)], 1+r.IntN(8))
		if r.IntN(25) == 0 {
			l.grade = "- / -"
		}
		if r.IntN(30) == 0 {
			l.color = "-"
		}
		l.sold = r.IntN(12) == 0
		l.minBid = r.IntN(10) == 0
		if r.IntN(4) != 0 {
			l.lane = string(rune('A' + r.IntN(4)))
		}
		if r.IntN(5) == 0 {
			l.usage = "자가용"
		}
		lots[i] = l
	}
	return lots
}

func (s *Sim) glovisRounds(r *http.Request, drift bool) page {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>현대글로비스</title></head><body>`)
	fmt.Fprintf(&b, `<select id="selAtn" name="atn"><option value="%d" selected>실시간경매 %d회 %s(금)</option></select>`, glovisRound, glovisRound, glovisDate)
	fmt.Fprintf(&b, `<input type="hidden" id="auctstardt" value="%s130000"/>`, strings.ReplaceAll(glovisDate, "-", ""))
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
	if atn == glovisRound {
		for i := range s.glovis {
			if rc == "" || s.glovis[i].rc == rc {
				matched = append(matched, &s.glovis[i])
			}
		}
	}
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
		writeLot(&b, matched[i], itemClass, i-start)
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
var glovisColor = map[string]string{"검정색": "검정", "흰색": "흰색", "회색": "회색", "은색": "은색", "진주색": "진주색", "파란색": "청색", "빨간색": "빨간색", "쥐색": "쥐색", "-": "-"}

func writeLot(b *strings.Builder, l *lot, class string, seq int) {
	if l.sold {
		class += " successfully"
	}
	fmt.Fprintf(b, `<div class="%s"><!-- 낙찰, 상담체결 시 'successfully' 클래스 추가  -->`, class)
	fmt.Fprintf(b, `<a href="javascript:;" class="btn_view" gn="%s" rc="%s" acc="20" atn="%d" prodmancd="5" reprcarcd="111" detacarcd="3451" cargradcd="4">`, l.gn, l.rc, glovisRound)
	flag := ""
	if l.sold {
		flag = `<span class="flag">낙찰</span>`
	}
	img := fmt.Sprintf("https://img-auction.autobell.co.kr/OBmZCjL58I?src=https%%3A%%2F%%2Fauction.autobell.co.kr%%2FFileUpDown%%2F%s%%2Fcarimg%%2F2506%%2F%s%%2F%s_02_02.jpg&amp;type=m&amp;w=400&amp;h=250", l.rc, l.goods, l.goods)
	fmt.Fprintf(b, `<div class="view-area"><div class="flag-box">%s</div><div class="thumbnail"><img src="%s" alt="" /></div>`, flag, img)
	fmt.Fprintf(b, `<div class="entry-info"><em>출품번호</em><span>%d</span></div></div>`, l.no)
	fmt.Fprintf(b, `<div class="info-area"><div class="in-box"><div class="info-value"><span class="tag-badge small type02">%s</span>`, siteNames[l.rc])
	fmt.Fprintf(b, `<div class="entry-info"><em>출품번호</em><span>%d</span></div></div>`, l.no)
	fmt.Fprintf(b, "<span class=\"car-name\"\n>[%s] %s %s\n</span>", l.m.glovis, html.EscapeString(l.gen), html.EscapeString(l.trim))
	trans := "A/T"
	if !l.auto {
		trans = "M/T"
	}
	cc := "-"
	if l.m.cc > 0 {
		cc = comma(l.m.cc) + "cc"
	}
	fmt.Fprintf(b, `<div class="option"><span>%d</span><span class="">%s</span><span>%s</span><span> %s km </span><span> %s </span><span>%s</span><span>%s</span><span>%s</span></div>`,
		l.year, trans, cc, comma(l.km), glovisColor[l.color], glovisFuel[l.fuel], l.usage, l.grade)
	fmt.Fprintf(b, `<div class="filter-option"><span class="tag-badge small type04">%d회</span>`, glovisRound)
	if l.lane != "" {
		fmt.Fprintf(b, `<span class="tag-badge small type04">레인 %s</span>`, l.lane)
	}
	fmt.Fprintf(b, `<span class="tag-badge small type04">%s</span></div></div>`, l.plate)
	label := "시작가"
	if l.minBid {
		label = "최저입찰가"
	}
	fmt.Fprintf(b, `<div class="price-box"><div class="inner"><span>%s</span><div class="price"><span class="num"> %s </span><span>만원</span></div></div></div></div></a>`, label, comma(l.price))
	fmt.Fprintf(b, `<button type="button" class="btn-interest" data-gn="%s" id="btn_intr_%d" data-seq="%d"><span class="blind">관심차량 등록</span></button></div>`, l.gn, seq, seq)
}

func glovisLogin() page {
	return page{http.StatusOK, "text/html; charset=utf-8", []byte(`<html><head><script type="text/javascript">alert('로그인이 필요합니다.');location.href='/login.do';</script></head><body></body></html>`)}
}

var glovisStatus = map[bool]string{false: "미경매", true: "낙찰"}

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
	fmt.Fprintf(&b, `<div class="head-box"><h2 class="car-name">[%s] %s %s </h2></div>`, l.m.glovis, html.EscapeString(l.gen), html.EscapeString(l.trim))
	fmt.Fprintf(&b, `<div class="spec-desc"><ul><li>출품 차량은 <strong class="point">[%s] %s</strong> 차량으로 …</li><li>해당 차량은 <strong class="point">%s</strong> 차량입니다.</li></ul></div>`,
		l.m.glovis, html.EscapeString(l.gen), glovisStatus[l.sold])
	b.WriteString(`<div class="new-car-info"><dl><dt>옵션 장착 현황</dt><dd><div class="option"> - 네비게이션 , 스마트키 , 후방카메라 , 열선시트(운전석)</div></dd></dl></div>`)
	fmt.Fprintf(&b, `<div class="%s"><div class="info-box"><dl><dt>연료</dt><dd>%s</dd><dt>배기량</dt><dd>%dcc</dd></dl>`, boxClass, glovisFuel[l.fuel], l.m.cc)
	fmt.Fprintf(&b, `<dl><dt>차량번호</dt><dd><span class="clipboard-txt" id="h_carno">%s</span></dd><dt>차대번호</dt><dd><span class="clipboard-txt" id="h_chasno">KMH%014d</span></dd>`, l.plate, l.id+1)
	fmt.Fprintf(&b, `<dt>연식</dt><dd>%d형</dd><dt>최초등록일</dt><dd>%d년 %02d월 15일</dd><dt>주행거리</dt><dd>%skm</dd><dt>색상</dt><dd>%s</dd><dt>변속기</dt><dd>%s</dd></dl></div></div>`,
		l.year, l.regYM/100, l.regYM%100, comma(l.km), glovisColor[l.color], trans)
	fmt.Fprintf(&b, `<input type="hidden" name="stprice" id="stprice" value="%d.0"/></body></html>`, l.price)
	return page{http.StatusOK, "text/html; charset=utf-8", []byte(b.String())}
}
