package danawa

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Row selectors, compiled once: they run on every row of every page.
var (
	selName  = cascadia.MustCompile("a.name")
	selYear  = cascadia.MustCompile(".col.year .middle")
	selKm    = cascadia.MustCompile(".col.km .middle")
	selPrice = cascadia.MustCompile(".col.price .num")
	selImg   = cascadia.MustCompile("img")
	selArea  = cascadia.MustCompile(".col.area .middle")
	selDate  = cascadia.MustCompile(".col.date .middle")
)

// List is one decoded list page.
type List struct {
	Total int // the count Danawa shows above the list; -1 when the page does not say
	Rows  []vehicle.Vehicle
	// Raw is how many car rows the page carried (ads and spacers excluded),
	// including rows left out for having no price; paging advances by it.
	Raw int
}

var (
	idRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// ExtractList reads a Danawa used-car list page. A page without the list
// container is ErrDrift (or ErrBlocked when it is a bot check); a list with
// no rows is a success with zero rows. Rows whose price is not a number
// (상담, "ask") are left out: a car without a price cannot be sorted or
// filtered by price.
func ExtractList(body []byte) (*List, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, sources.Drift("list HTML: %v", err)
	}
	list := doc.Find("#usedcarList")
	if list.Length() == 0 {
		if isBotCheck(doc) {
			return nil, fmt.Errorf("%w: bot check page", sources.ErrBlocked)
		}
		return nil, sources.Drift("missing #usedcarList")
	}
	out := &List{Total: total(doc), Rows: []vehicle.Vehicle{}}
	var rowErr error
	list.Find("ul > li").EachWithBreak(func(_ int, li *goquery.Selection) bool {
		name := li.FindMatcher(selName).First()
		if name.Length() == 0 {
			return true // an ad or a spacer
		}
		out.Raw++
		v, ok, err := row(li, name)
		if err != nil {
			rowErr = err
			return false
		}
		if ok {
			out.Rows = append(out.Rows, v)
		}
		return true
	})
	if rowErr != nil {
		return nil, rowErr
	}
	if items := list.Find("ul > li").Length(); out.Raw == 0 && items > 0 && out.Total != 0 {
		// Items, none of them a car, while the count says there are cars:
		// the row markup changed, which must not read as "no cars".
		return nil, sources.Drift("%d list items but none has a.name", items)
	}
	return out, nil
}

func isBotCheck(doc *goquery.Document) bool {
	text := doc.Text()
	return strings.Contains(text, "자동입력 방지") || strings.Contains(strings.ToLower(text), "captcha") ||
		strings.Contains(text, "비정상적인 접근")
}

// total reads "총 12,345대" above the list.
func total(doc *goquery.Document) int {
	n, ok := sources.Number(doc.Find(".list_top .count em").First().Text())
	if !ok {
		return -1
	}
	return n
}

func row(li, name *goquery.Selection) (vehicle.Vehicle, bool, error) {
	title := strings.Join(strings.Fields(name.Text()), " ")
	href, _ := name.Attr("href")
	id, err := rowID(href)
	if err != nil {
		return vehicle.Vehicle{}, false, err
	}
	year, ok := sources.Number(li.FindMatcher(selYear).First().Text())
	if !ok {
		return vehicle.Vehicle{}, false, sources.Drift("row %s: missing .col.year", id)
	}
	km, ok := sources.Number(li.FindMatcher(selKm).First().Text())
	if !ok {
		return vehicle.Vehicle{}, false, sources.Drift("row %s: missing .col.km", id)
	}
	priceSel := li.FindMatcher(selPrice).First()
	if priceSel.Length() == 0 {
		return vehicle.Vehicle{}, false, sources.Drift("row %s: missing .col.price .num", id)
	}
	price, ok := sources.Number(priceSel.Text())
	if !ok || price <= 0 {
		return vehicle.Vehicle{}, false, nil // 상담: no price
	}
	v := vehicle.Vehicle{
		ID:        "danawa_" + id,
		Source:    vehicle.Danawa,
		Year:      year,
		MileageKm: km,
		PriceKRW:  int64(price) * 10000,
		Options:   []string{},
		SourceURL: href,
	}
	mk, rest, ok := korean.MakePrefix(title)
	if !ok {
		korean.Miss(korean.KindMake)
		first, after, _ := strings.Cut(title, " ")
		v.Make, v.Model, v.Trim = first, after, ""
	} else if md, trim, ok := mk.SplitModel(rest); ok {
		v.Make, v.Model, v.Trim = mk.English, md.English, trim
	} else {
		korean.Miss(korean.KindModel)
		v.Make, v.Model = mk.English, rest
	}
	v.Fuel = korean.FuelInText(v.Trim)
	v.Drivetrain = korean.Drivetrain(v.Trim)
	if src, ok := li.FindMatcher(selImg).First().Attr("src"); ok && strings.HasPrefix(src, "http") {
		v.PhotoURL = src
	}
	if region := strings.TrimSpace(li.FindMatcher(selArea).First().Text()); region != "" {
		v.Seller = &vehicle.Seller{Type: "dealer", Region: region}
	}
	if d := strings.TrimSpace(li.FindMatcher(selDate).First().Text()); d != "" {
		if t, err := time.ParseInLocation("2006.01.02", d, vehicle.KST); err == nil {
			v.ListedAt = t
		}
	}
	return v, true, nil
}

// rowID derives the row id from the loadingBridge link: Danawa has no detail
// page, so the partner site and its ad number are what identify the car.
func rowID(href string) (string, error) {
	u, err := url.Parse(href)
	if err != nil || !strings.Contains(u.Path, "loadingBridge") {
		return "", sources.Drift("a.name does not link through loadingBridge: %q", href)
	}
	q := u.Query()
	ad := q.Get("carSeq")
	if ad == "" {
		return "", sources.Drift("bridge link without carSeq")
	}
	id := ad
	if p := q.Get("partner"); p != "" {
		id = p + "-" + ad
	}
	if !idRe.MatchString(id) {
		return "", sources.Drift("bridge link id %q is not url-safe", id)
	}
	return id, nil
}
