package glovis

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

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
	pagingRe  = regexp.MustCompile(`fnPaging\((\d{1,9})\)`)
	roundRe   = regexp.MustCompile(`(\d+)회\s*(\d{4}-\d{2}-\d{2})(?:\([^)]*\))?\s*(?:(AM|PM)\s*)?(?:(\d{1,2}):(\d{2}))?`)
	bracketRe = regexp.MustCompile(`^\s*\[([^\]]+)\]\s*(.*)$`)
	gradeRe   = regexp.MustCompile(`^([A-F])/([1-8])$`)
	yearRe    = regexp.MustCompile(`^(19|20)\d\d$`)
)

// Row selectors, compiled once: a crawl runs them on every lot.
var (
	selBtnView  = cascadia.MustCompile("a.btn_view")
	selLotNo    = cascadia.MustCompile(".entry-info > span")
	selThumb    = cascadia.MustCompile(".thumbnail img")
	selCarName  = cascadia.MustCompile("span.car-name")
	selOptions  = cascadia.MustCompile("div.option > span")
	selPriceBox = cascadia.MustCompile(".price-box .price")
	selNum      = cascadia.MustCompile(".num")
	selBadges   = cascadia.MustCompile("div.filter-option > span.tag-badge")
	selState    = cascadia.MustCompile(".state-tag, .state-flag > span")
	selFlag     = cascadia.MustCompile(".flag-box")
)

// checkPage rejects the login page an expired session gets with status 200.
func checkPage(body []byte) error {
	if bytes.Contains(body, []byte("location.href='/login.do'")) || bytes.Contains(body, []byte(`location.href="/login.do"`)) {
		return sources.ErrLogin
	}
	return nil
}

// PublicBase is the auction site members open in a browser. A lot's
// source_url points there, whatever base the crawler was configured with.
const PublicBase = "https://auction.autobell.co.kr"

// ExhibitURL is the absolute address of a lot's exhibit page.
func ExhibitURL(l Lot) string {
	q := url.Values{"acc": {l.ACC}, "gn": {l.GN}, "rc": {l.RC}, "atn": {strconv.Itoa(l.ATN)}}
	return PublicBase + "/auction/exhibitView.do?" + q.Encode()
}

// MaxRoundLots is more lots than any round at any site has had (a busy
// round has a few thousand). The total sizes the crawl's work, so a larger
// one is a misread, not a round.
const MaxRoundLots = 50_000

// errEmptyPage is a list page with no lots while its total says there are
// some. On the first page that is drift; past it, the round shrank while
// the crawl walked it (the crawler knows which).
var errEmptyPage = sources.Drift("#div_list is empty while the total says otherwise")

// ExtractList reads an exhibitListInclude page. The auction date is not on
// the page; it comes from the round selector (ExtractRounds) and is given by
// the caller. A page without #div_list or its total is ErrDrift, and so is a
// page whose list is empty while its total is not; a round with no lots is a
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
	totalText := strings.TrimSpace(doc.Find("#div_total span.total > span").First().Text())
	if out.Total, err = quantity(totalText, "", "", "#div_total span.total > span"); err != nil {
		return nil, err
	}
	if out.Total > MaxRoundLots {
		return nil, sources.Drift("a total of %d lots in one round", out.Total)
	}
	if onclick, ok := doc.Find("#exhibit_list_paging .paging-last").Attr("onclick"); ok {
		m := pagingRe.FindStringSubmatch(onclick)
		if m == nil {
			return nil, sources.Drift("paging-last onclick %q", onclick)
		}
		out.LastPage, _ = strconv.Atoi(m[1])
		// The pager's number sizes the crawl's work: it must agree with the
		// total (every page but the last is full, so never more pages than
		// lots) or a misread page could send the crawler to a million pages.
		if out.LastPage < 1 || out.LastPage > max(out.Total, 1) {
			return nil, sources.Drift("pager's last page %d does not fit a total of %d lots", out.LastPage, out.Total)
		}
	}
	items := list.Children().Filter("div.item")
	out.Lots = make([]Lot, 0, items.Length())
	var rowErr error
	items.EachWithBreak(func(i int, item *goquery.Selection) bool {
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
	if len(out.Lots) == 0 && out.Total > 0 {
		if n := list.Children().Length(); n > 0 {
			return nil, sources.Drift("#div_list has %d children but no div.item while the total says %d", n, out.Total)
		}
		return nil, fmt.Errorf("%w (total %d)", errEmptyPage, out.Total)
	}
	sources.NoteMissingFields(vehicle.Glovis, len(out.Lots), func(i int) *vehicle.Vehicle { return &out.Lots[i].Vehicle }, optional)
	return out, nil
}

// Their counts are exported from the start (sources.DeclareMissing).
var _ = sources.DeclareMissing(vehicle.Glovis, optional)

// optional are the list fields a lot may lack; empty on every lot of a big
// page, they are counted (sources.NoteMissing).
var optional = []sources.Optional{
	{Name: "fuel", Empty: func(v *vehicle.Vehicle) bool { return v.Fuel == "" }},
	{Name: "transmission", Empty: func(v *vehicle.Vehicle) bool { return v.Transmission == "" }},
	{Name: "color", Empty: func(v *vehicle.Vehicle) bool { return v.Color == "" }},
	{Name: "engine_cc", Empty: func(v *vehicle.Vehicle) bool { return v.EngineCC == 0 }},
	{Name: "grade", Empty: func(v *vehicle.Vehicle) bool { return v.AccidentGrade == "" }},
	{Name: "plate", Empty: func(v *vehicle.Vehicle) bool { return v.LicensePlate == "" }},
	{Name: "photo", Empty: func(v *vehicle.Vehicle) bool { return v.PhotoURL == "" }},
}

// quantity reads a number strictly (sources.Quantity), naming what on the
// page it was when it cannot.
func quantity(s, prefix, unit, what string) (int, error) {
	n, ok := sources.Quantity(s, prefix, unit)
	if !ok {
		if unit != "" {
			return 0, sources.Drift("%s %q is not a whole number of %s", what, s, unit)
		}
		return 0, sources.Drift("%s %q is not a whole number", what, s)
	}
	return n, nil
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
	lotNo, err := quantity(item.FindMatcher(selLotNo).First().Text(), "", "", "lot number (.entry-info > span)")
	if err != nil {
		return Lot{}, err
	}
	if lotNo < 1 || lotNo > 99999 {
		return Lot{}, sources.Drift("lot number %d", lotNo)
	}
	img := item.FindMatcher(selThumb).AttrOr("src", "")
	if m := goodsRe.FindStringSubmatch(unescapePath(img)); m != nil {
		lot.GoodsNo = m[1]
	}
	title := strings.Join(strings.Fields(item.FindMatcher(selCarName).First().Text()), " ")
	if title == "" {
		return Lot{}, sources.Drift("missing span.car-name")
	}
	if !bracketRe.MatchString(title) {
		return Lot{}, sources.Drift("title %q does not start with [make]", title)
	}
	cols, err := optionColumns(item.FindMatcher(selOptions))
	if err != nil {
		return Lot{}, err
	}
	price, err := startPrice(item)
	if err != nil {
		return Lot{}, err
	}
	v := vehicle.Vehicle{
		ID:           fmt.Sprintf("glovis_%s_%s_%d", auctionDate.Format("20060102"), lot.RC, lotNo),
		Source:       vehicle.Glovis,
		Year:         cols.year,
		MileageKm:    cols.km,
		EngineCC:     cols.cc,
		Transmission: cols.transmission,
		Color:        cols.color,
		Fuel:         cols.fuel,
		PriceKRW:     price,
		Options:      []string{},
		PhotoURL:     img,
		Seller:       &vehicle.Seller{Type: "auction", Name: "Hyundai Glovis", Region: site},
	}
	v.AccidentGrade, v.ExteriorGrade = cols.accident, cols.exterior
	v.SourceURL = ExhibitURL(lot)
	if v.Fuel == vehicle.FuelElectric {
		v.EngineCC = 0 // an electric car has no displacement; Glovis puts a motor figure there ("111cc")
	}
	v.Make, v.Model, v.Trim = titleNames(title)
	v.Drivetrain = korean.Drivetrain(v.Trim)
	round := lot.ATN
	var plate string
	item.FindMatcher(selBadges).Each(func(_ int, s *goquery.Selection) {
		t := strings.TrimSpace(s.Text())
		switch {
		case strings.HasSuffix(t, "회"):
			if n, ok := sources.Quantity(t, "", "회"); ok {
				round = n
			}
		case strings.HasPrefix(t, "레인"):
		default:
			plate = t
		}
	})
	v.LicensePlate = plate
	status, err := listStatus(item)
	if err != nil {
		return Lot{}, err
	}
	v.Auction = &vehicle.Auction{Date: auctionDate, Site: site, LotNumber: lotNo, Round: round, Status: status, Count: 1}
	lot.Vehicle = v
	return lot, nil
}

// listStatus reads a lot's result from its state text ("유찰", "낙찰(부)"),
// with the same table as the detail page. The successfully class is only
// a fallback: unsold lots do not get it. A state word not in the table is
// drift: guessing "upcoming" would tell partners an unsold car is still to
// be auctioned.
func listStatus(item *goquery.Selection) (string, error) {
	var words []string
	item.FindMatcher(selState).Each(func(_ int, s *goquery.Selection) {
		if w := strings.Join(strings.Fields(s.Text()), ""); w != "" {
			words = append(words, w)
		}
	})
	for _, w := range words {
		st, ok := statuses[w]
		if !ok {
			return "", sources.Drift("unknown lot state %q", w)
		}
		if st != vehicle.AuctionUpcoming {
			return st, nil
		}
	}
	if len(words) > 0 {
		return vehicle.AuctionUpcoming, nil
	}
	if item.HasClass("successfully") {
		if strings.Contains(item.FindMatcher(selFlag).Text(), "상담") {
			return vehicle.AuctionNegotiationSold, nil
		}
		return vehicle.AuctionSold, nil
	}
	return vehicle.AuctionUpcoming, nil
}

// startPrices are the labels of the price a lot is offered at: 시작가 (live
// auction) and 최저입찰가 (timed). After an auction a lot also shows 희망가
// (reserve) and 즉시체결가 (buy-now): prices are told apart by their label,
// never by their place.
var startPrices = []string{"시작가", "최저입찰가"}

func startPrice(item *goquery.Selection) (int64, error) {
	var labels []string
	price := int64(-1)
	item.FindMatcher(selPriceBox).Each(func(_ int, p *goquery.Selection) {
		label := strings.TrimSpace(p.Parent().Children().First().Text())
		if p.Parent().Children().First().Is(".price") {
			label = ""
		}
		labels = append(labels, label)
		if price >= 0 || !slices.Contains(startPrices, label) {
			return
		}
		manwon, ok := sources.Quantity(p.FindMatcher(selNum).First().Text(), "", "")
		if !ok {
			price = -2
			return
		}
		price = int64(manwon) * 10000
	})
	switch {
	case price == -2:
		return 0, sources.Drift("start price is not a number of 만원")
	case price < 0:
		return 0, sources.Drift("no start price among price labels %q", labels)
	}
	if err := sources.CheckPrice(float64(price)); err != nil {
		return 0, err
	}
	return price, nil
}

// colorColumn is where the colour stands among the spans today. It is
// used for one thing only: telling a colour word the dictionary lacks from
// the usage word (both are Hangul), so the miss is counted.
const colorColumn = 4

// columns are the eight spans of div.option, recognised by what they say
// (a unit, a word list, a pattern), not by their order: a column that
// moves or disappears must not put the displacement into the mileage.
type columns struct {
	year, km, cc                    int
	transmission, color, fuel       string
	accident, exterior              string
	seenYear, seenKm, seenCC, seenG bool
}

func optionColumns(spans *goquery.Selection) (columns, error) {
	var c columns
	var err error
	spans.EachWithBreak(func(i int, s *goquery.Selection) bool {
		t := strings.Join(strings.Fields(s.Text()), " ")
		compact := strings.ReplaceAll(t, " ", "")
		switch {
		case t == "" || t == "-":
			// unknown: the column does not say which it is
		case yearRe.MatchString(t):
			if c.seenYear {
				err = sources.Drift("two model-year columns in div.option")
				return false
			}
			c.year, c.seenYear = mustAtoi(t), true
		case strings.HasSuffix(strings.ToLower(compact), "km"):
			if c.seenKm {
				err = sources.Drift("two mileage columns in div.option")
				return false
			}
			if c.km, err = quantity(strings.ToLower(compact), "", "km", "mileage"); err != nil {
				return false
			}
			c.seenKm = true
		case strings.HasSuffix(strings.ToLower(compact), "cc"):
			if c.cc, err = quantity(strings.ToLower(compact), "", "cc", "displacement"); err != nil {
				return false
			}
			c.seenCC = true
		case gradeRe.MatchString(compact):
			m := gradeRe.FindStringSubmatch(compact)
			c.accident, c.exterior = m[1], exteriorGrade(m[2])
			c.seenG = true
		case compact == "-/-":
			c.seenG = true // not graded
		case isTransmission(t):
			c.transmission, _ = korean.Transmission(t)
		case isFuel(t):
			c.fuel, _ = korean.Fuel(t)
		case isColor(t):
			c.color, _ = korean.Color(t)
		case isUsage(t) && i == colorColumn:
			// A Hangul word where the colour stands that the dictionary
			// lacks: an unknown colour, counted as a dictionary miss.
			c.color, _ = korean.Color(t)
		case isUsage(t):
		default:
			// A grade without its slash ("A4"), a number without its unit:
			// a column this extractor does not know is a changed page.
			err = sources.Drift("unrecognised div.option column %q", t)
			return false
		}
		return true
	})
	switch {
	case err != nil:
		return columns{}, err
	case !c.seenYear:
		return columns{}, sources.Drift("no model-year column (YYYY) in div.option")
	case !c.seenKm:
		return columns{}, sources.Drift("no mileage column (… km) in div.option")
	}
	if err := sources.CheckYear(c.year); err != nil {
		return columns{}, err
	}
	if err := sources.CheckMileage(float64(c.km)); err != nil {
		return columns{}, err
	}
	return c, nil
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// The probes below ask the dictionary without counting a miss: a column is
// being identified, not translated.
func isTransmission(s string) bool { return korean.Known(korean.KindTransmission, s) }
func isFuel(s string) bool         { return korean.Known(korean.KindFuel, s) }
func isColor(s string) bool        { return korean.Known(korean.KindColor, s) }

// isUsage recognises the usage column (법인상품용, 자가용, 렌트, 리스 …):
// Hangul words, optionally joined by '/', and nothing else.
func isUsage(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.Is(unicode.Hangul, r) && r != '/' && r != ' ' && r != '(' && r != ')' {
			return false
		}
	}
	return true
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

// exteriorGrade folds Glovis' exterior condition, 1 (best) to 8, onto the
// contract's A..F scale: 1-2 A, 3-4 B, 5-6 C, 7 D, 8 F.
func exteriorGrade(n string) string {
	return [...]string{"", "A", "A", "B", "B", "C", "C", "D", "F"}[mustAtoi(n)]
}

// ExtractRounds reads the round selector of the exhibit-list page. Live
// rounds say only their date ("실시간경매 946회 2025-06-20(금)") and start at
// the time in input#auctstardt when that is their date, else 13:00; timed
// rounds say their own start ("지정시간경매 748회 2025-06-17(화) PM 20:00 ~ …"),
// which wins.
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
		switch {
		case m[4] != "":
			h, mi := mustAtoi(m[4]), mustAtoi(m[5])
			if m[3] == "PM" && h < 12 {
				h += 12
			}
			if h > 23 || mi > 59 {
				return
			}
			d = d.Add(time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute)
		case !start.IsZero() && start.Format("2006-01-02") == m[2]:
			d = start
		default:
			d = d.Add(13 * time.Hour)
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
