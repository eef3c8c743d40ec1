package sim

import (
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/lmn/aggregator/korean"
)

// danawaPageSize is how many rows a list page holds.
const danawaPageSize = 20

// danawaFilter reads Brand and Series (Danawa catalogue codes, comma lists).
func danawaFilter(brand, series string) func(c *car) bool {
	brands, serieses := csv(brand), csv(series)
	makes := map[string]*korean.Make{} // the few makes of the inventory, looked up once
	return func(c *car) bool {
		mk, ok := makes[c.m.make_]
		if !ok {
			mk, ok = korean.MakeByName(c.m.make_)
			makes[c.m.make_] = mk
		} else {
			ok = mk != nil
		}
		if !ok {
			return len(brands) == 0
		}
		if len(brands) > 0 && !slices.Contains(brands, mk.DanawaBrand) {
			return false
		}
		if len(serieses) == 0 {
			return true
		}
		md, ok := mk.ModelIn(c.m.group)
		return ok && slices.Contains(serieses, md.DanawaSeries)
	}
}

func csv(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

var danawaOrders = map[string]string{"1": "", "2": "PriceAsc", "3": "PriceDesc", "4": "MileageAsc", "5": "Year"}

func (s *Sim) danawaList(r *http.Request, drift bool) page {
	return s.lists.get(r, drift, func() page { return s.renderDanawaList(r, drift) })
}

func (s *Sim) renderDanawaList(r *http.Request, drift bool) page {
	q := r.URL.Query()
	if q.Get("Work") != "list" {
		return notFound(r, false)
	}
	pageNo, err := strconv.Atoi(q.Get("Page"))
	if err != nil || pageNo < 1 {
		pageNo = 1
	}
	keep := danawaFilter(q.Get("Brand"), q.Get("Series"))
	var matched []*car
	for i := range s.danawa {
		if keep(&s.danawa[i]) {
			matched = append(matched, &s.danawa[i])
		}
	}
	sortCars(matched, danawaOrders[q.Get("Order")])
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>중고차 - 다나와 자동차</title></head><body>`)
	listID := "usedcarList"
	if drift {
		listID = "usedcarListV2"
	}
	fmt.Fprintf(&b, `<div class="list_top"><strong class="count">총 <em>%s</em>대</strong></div>`, comma(len(matched)))
	fmt.Fprintf(&b, `<div id="%s"><ul>`, listID)
	start := (pageNo - 1) * danawaPageSize
	for i := start; i < len(matched) && i < start+danawaPageSize; i++ {
		if i == start+3 {
			b.WriteString(`<li class="ad_banner"><div class="ad">다나와 자동차 보험 비교 광고</div></li>`)
		}
		writeDanawaRow(&b, matched[i])
	}
	b.WriteString(`</ul></div><div class="paging">`)
	for p := 1; p <= (len(matched)+danawaPageSize-1)/danawaPageSize && p <= 10; p++ {
		fmt.Fprintf(&b, `<a href="?Work=list&amp;Page=%d">%d</a>`, p, p)
	}
	b.WriteString(`</div></body></html>`)
	return page{http.StatusOK, "text/html; charset=utf-8", []byte(b.String())}
}

var partners = []string{"kcar", "kbchachacha", "encar", "bobaedream"}

func writeDanawaRow(b *strings.Builder, c *car) {
	partner := partners[c.id%len(partners)]
	// Nothing confirms the bridge link's parameter names, so the simulator
	// varies them as the real site might; every shape carries the same id.
	var link string
	switch c.id % 5 {
	case 3: // other names, and a cache-buster that must not be taken for an id
		link = fmt.Sprintf("/usedcar/loadingBridge.php?ts=%d&site=%s&cid=%d", 1718000000+c.id%977, partner, c.id)
	case 4: // relative, and the ad number only in the partner's own link
		link = fmt.Sprintf("loadingBridge.php?partner=%s&url=%s", partner, "https%3A%2F%2Fwww."+partner+".com%2Fcar%2F"+strconv.Itoa(c.id))
	default:
		link = fmt.Sprintf("/usedcar/loadingBridge.php?partner=%s&carSeq=%d&url=%s", partner, c.id,
			"https%3A%2F%2Fpartner.example%2Fcar%2F"+strconv.Itoa(c.id))
	}
	title := c.m.danawa + " " + c.gen + " " + c.trim
	price := comma(c.price)
	if askPrice(c) {
		price = "상담"
	}
	fmt.Fprintf(b, `<li class="item"><div class="col photo"><a href="%s"><img src="https://img.danawa.com/usedcar/%d.jpg" alt=""></a></div>`,
		html.EscapeString(link), c.id)
	fmt.Fprintf(b, `<div class="col info"><a class="name" href="%s">%s</a><span class="site">%s</span></div>`,
		html.EscapeString(link), html.EscapeString(title), partner)
	fmt.Fprintf(b, `<div class="col year"><span class="top">연식</span><span class="middle">%d</span></div>`, c.year)
	fmt.Fprintf(b, `<div class="col km"><span class="middle">%skm</span></div>`, comma(c.km))
	fmt.Fprintf(b, `<div class="col area"><span class="middle">%s</span></div>`, c.city)
	fmt.Fprintf(b, `<div class="col date"><span class="middle">%s</span></div>`, c.modified.Format("2006.01.02"))
	fmt.Fprintf(b, `<div class="col price"><span class="num">%s</span><span class="unit">만원</span></div></li>`, price)
}

func comma(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func danawaBlocked() page {
	return page{http.StatusOK, "text/html; charset=utf-8", []byte(`<!DOCTYPE html><html><head><title>다나와</title></head>
<body><div class="security"><p>자동입력 방지를 위해 아래 문자를 입력해 주세요.</p><img src="/captcha.php" alt="captcha"></div></body></html>`)}
}
