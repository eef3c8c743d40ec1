package glovis

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Lot is one exhibit of a list page, as the auction shows it.
type Lot struct {
	Vehicle vehicle.Vehicle
	GoodsNo string // "C250601273": stable across rounds, names the physical car
	GN      string // the site's encrypted goods id, needed for the detail page
	RC      string // site code
	ACC     string // 20 live, 30 timed
	ATN     int    // round
}

// List is one decoded exhibit-list page.
type List struct {
	Total    int // lots in the round (all pages)
	LastPage int // from the pager's paging-last button
	Lots     []Lot
}

// Round is one auction round offered by the round selector.
type Round struct {
	Number int
	Date   time.Time // auction start, Korean time
}

var (
	goodsRe   = regexp.MustCompile(`/carimg/\d{4}/([A-Z][0-9]+)/`)
	pagingRe  = regexp.MustCompile(`fnPaging\((\d+)\)`)
	roundRe   = regexp.MustCompile(`(\d+)회\s*(\d{4}-\d{2}-\d{2})`)
	bracketRe = regexp.MustCompile(`^\s*\[([^\]]+)\]\s*(.*)$`)
	gradeRe   = regexp.MustCompile(`^([A-F])\s*/\s*([1-8])$`)
)

// Row selectors, compiled once: a crawl runs them on every lot.
var (
	selBtnView = cascadia.MustCompile("a.btn_view")
	selLotNo   = cascadia.MustCompile(".entry-info > span")
	selThumb   = cascadia.MustCompile(".thumbnail img")
	selCarName = cascadia.MustCompile("span.car-name")
	selOptions = cascadia.MustCompile("div.option > span")
	selPrice   = cascadia.MustCompile(".price-box .price .num")
	selBadges  = cascadia.MustCompile("div.filter-option > span.tag-badge")
	selFlag    = cascadia.MustCompile(".flag-box")
)

// checkPage rejects the login page an expired session gets with status 200.
func checkPage(body []byte) error {
	if bytes.Contains(body, []byte("location.href='/login.do'")) || bytes.Contains(body, []byte(`location.href="/login.do"`)) {
		return sources.ErrLogin
	}
	return nil
}

// ExtractList reads an exhibitListInclude page. The auction date is not on
// the page; it comes from the round selector (ExtractRounds) and is given by
// the caller. A page without #div_list is ErrDrift; a round with no lots is a
// success with zero rows.
func ExtractList(body []byte, auctionDate time.Time) (*List, error) {
	if err := checkPage(body); err != nil {
		return nil, err
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, sources.Drift("list HTML: %v", err)
	}
	list := doc.Find("#div_list")
	if list.Length() == 0 {
		return nil, sources.Drift("missing #div_list")
	}
	out := &List{LastPage: 1}
	if n, ok := sources.Number(doc.Find("#div_total span.total > span").First().Text()); ok {
		out.Total = n
	} else {
		return nil, sources.Drift("missing #div_total span.total > span")
	}
	if onclick, ok := doc.Find("#exhibit_list_paging .paging-last").Attr("onclick"); ok {
		if m := pagingRe.FindStringSubmatch(onclick); m != nil {
			out.LastPage, _ = strconv.Atoi(m[1])
		}
	}
	var rowErr error
	list.Children().Filter("div.item").EachWithBreak(func(i int, item *goquery.Selection) bool {
		lot, err := lotFrom(item, auctionDate)
		if err != nil {
			rowErr = fmt.Errorf("item %d: %w", i+1, err)
			return false
		}
		out.Lots = append(out.Lots, lot)
		return true
	})
	if rowErr != nil {
		return nil, rowErr
	}
	if len(out.Lots) == 0 && out.Total > 0 && list.Children().Length() > 0 {
		// The list has children, none of them lots: the markup changed.
		return nil, sources.Drift("#div_list has %d children but no div.item while the total says %d", list.Children().Length(), out.Total)
	}
	return out, nil
}

func lotFrom(item *goquery.Selection, auctionDate time.Time) (Lot, error) {
	a := item.FindMatcher(selBtnView).First()
	if a.Length() == 0 {
		return Lot{}, sources.Drift("missing a.btn_view")
	}
	lot := Lot{GN: a.AttrOr("gn", ""), RC: a.AttrOr("rc", ""), ACC: a.AttrOr("acc", "")}
	var err error
	if lot.ATN, err = strconv.Atoi(a.AttrOr("atn", "")); err != nil {
		return Lot{}, sources.Drift("btn_view atn %q", a.AttrOr("atn", ""))
	}
	site, ok := korean.Site(lot.RC)
	if !ok {
		return Lot{}, sources.Drift("unknown site code rc=%q", lot.RC)
	}
	lotNo, ok := sources.Number(item.FindMatcher(selLotNo).First().Text())
	if !ok {
		return Lot{}, sources.Drift("missing .entry-info > span (lot number)")
	}
	img := item.FindMatcher(selThumb).AttrOr("src", "")
	if m := goodsRe.FindStringSubmatch(unescapePath(img)); m != nil {
		lot.GoodsNo = m[1]
	}
	title := strings.Join(strings.Fields(item.FindMatcher(selCarName).First().Text()), " ")
	if title == "" {
		return Lot{}, sources.Drift("missing span.car-name")
	}
	opts := item.FindMatcher(selOptions)
	if opts.Length() < 8 {
		return Lot{}, sources.Drift("div.option has %d spans, want 8", opts.Length())
	}
	opt := func(i int) string { return strings.TrimSpace(opts.Eq(i).Text()) }
	year, ok := sources.Number(opt(0))
	if !ok {
		return Lot{}, sources.Drift("model year %q", opt(0))
	}
	km, ok := sources.Number(opt(3))
	if !ok {
		return Lot{}, sources.Drift("mileage %q", opt(3))
	}
	price, ok := sources.Number(item.FindMatcher(selPrice).First().Text())
	if !ok {
		return Lot{}, sources.Drift("missing .price-box .price .num")
	}

	v := vehicle.Vehicle{
		ID:        fmt.Sprintf("glovis_%s_%s_%d", auctionDate.Format("20060102"), lot.RC, lotNo),
		Source:    vehicle.Glovis,
		Year:      year,
		MileageKm: km,
		PriceKRW:  int64(price) * 10000,
		Options:   []string{},
		PhotoURL:  img,
		Seller:    &vehicle.Seller{Type: "auction", Name: "Hyundai Glovis", Region: site},
	}
	v.Make, v.Model, v.Trim = titleNames(title)
	v.Transmission, _ = korean.Transmission(opt(1))
	if cc, ok := sources.Number(opt(2)); ok {
		v.EngineCC = cc
	}
	v.Color, _ = korean.Color(opt(4))
	v.Fuel, _ = korean.Fuel(opt(5))
	v.AccidentGrade, v.ExteriorGrade = grades(opt(7))
	v.Drivetrain = korean.Drivetrain(v.Trim)

	round := lot.ATN
	var plate string
	item.FindMatcher(selBadges).Each(func(_ int, s *goquery.Selection) {
		t := strings.TrimSpace(s.Text())
		switch {
		case strings.HasSuffix(t, "회"):
			if n, ok := sources.Number(t); ok {
				round = n
			}
		case strings.HasPrefix(t, "레인"):
		default:
			plate = t
		}
	})
	v.LicensePlate = plate
	status := vehicle.AuctionUpcoming
	if item.HasClass("successfully") {
		status = vehicle.AuctionSold
		if strings.Contains(item.FindMatcher(selFlag).Text(), "상담") {
			status = vehicle.AuctionNegotiationSold
		}
	}
	v.Auction = &vehicle.Auction{Date: auctionDate, Site: site, LotNumber: lotNo, Round: round, Status: status, Count: 1}
	lot.Vehicle = v
	return lot, nil
}

// titleNames splits "[제네시스] 더 올뉴G80 가솔린 2.5 AWD 기본형" into the
// English make and model and the trim, keeping raw text the dictionary lacks.
func titleNames(title string) (mk, model, trim string) {
	m := bracketRe.FindStringSubmatch(title)
	if m == nil {
		korean.Miss(korean.KindMake)
		return title, "", ""
	}
	make_, ok := korean.MakeByName(m[1])
	if !ok {
		korean.Miss(korean.KindMake)
		return m[1], m[2], ""
	}
	md, trim, ok := make_.SplitModel(m[2])
	if !ok {
		korean.Miss(korean.KindModel)
		return make_.English, m[2], ""
	}
	return make_.English, md.English, trim
}

// grades reads "A/4": the letter is the accident grade; the number is the
// exterior condition from 1 (best) to 8, folded onto the contract's A..F
// scale (1-2 A, 3-4 B, 5-6 C, 7 D, 8 F). "- / -" means not graded.
func grades(s string) (accident, exterior string) {
	m := gradeRe.FindStringSubmatch(strings.Join(strings.Fields(s), ""))
	if m == nil {
		return "", ""
	}
	n, _ := strconv.Atoi(m[2])
	return m[1], [...]string{"", "A", "A", "B", "B", "C", "C", "D", "F"}[n]
}

// ExtractRounds reads the round selector of the exhibit-list page
// ("실시간경매 946회 2025-06-20(금)"). input#auctstardt, when present, gives
// the start time of the selected round; other rounds start at 13:00.
func ExtractRounds(body []byte) ([]Round, error) {
	if err := checkPage(body); err != nil {
		return nil, err
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, sources.Drift("round page HTML: %v", err)
	}
	var start time.Time
	if v, ok := doc.Find("input#auctstardt").Attr("value"); ok {
		start, _ = time.ParseInLocation("20060102150405", strings.TrimSpace(v), vehicle.KST)
	}
	var rounds []Round
	seen := map[int]bool{}
	doc.Find("option").Each(func(_ int, o *goquery.Selection) {
		m := roundRe.FindStringSubmatch(o.Text())
		if m == nil {
			return
		}
		n, _ := strconv.Atoi(m[1])
		d, err := time.ParseInLocation("2006-01-02", m[2], vehicle.KST)
		if err != nil || seen[n] {
			return
		}
		seen[n] = true
		d = d.Add(13 * time.Hour)
		if !start.IsZero() && start.Format("2006-01-02") == m[2] {
			d = start
		}
		rounds = append(rounds, Round{Number: n, Date: d})
	})
	if len(rounds) == 0 {
		return nil, sources.Drift("no auction round in the round selector")
	}
	return rounds, nil
}

// unescapePath undoes the percent-encoding of the image proxy's src= query so
// the goods number in the original path can be read.
func unescapePath(s string) string {
	return strings.NewReplacer("%2F", "/", "%2f", "/").Replace(s)
}
