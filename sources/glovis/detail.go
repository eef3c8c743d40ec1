package glovis

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Detail is what an exhibit detail page adds to a list row.
type Detail struct {
	Make, Model, Trim string
	VIN               string
	LicensePlate      string
	FirstRegistration string // YYYY-MM
	Year              int
	MileageKm         int
	EngineCC          int
	Fuel              string
	Transmission      string
	Color             string
	Status            string // vehicle.Auction* constant
	PriceKRW          int64
	Options           []string
}

// statuses maps the status words of the detail page (code table 00..09)
// and of the list's state tags, which use the same words plus 경매접수
// (entered, not yet auctioned) and 낙찰(부) (sold, conditionally).
var statuses = map[string]string{
	"경매접수":  vehicle.AuctionUpcoming,
	"낙찰(부)": vehicle.AuctionSold,
	"경매진행":  vehicle.AuctionUpcoming, // 00: on the block now
	"미경매":   vehicle.AuctionUpcoming, // 01
	"낙찰":    vehicle.AuctionSold,     // 02
	"유찰":    vehicle.AuctionNoBid,    // 03
	"상담접수":  vehicle.AuctionNegotiationRequested,
	"상담체결":  vehicle.AuctionNegotiationSold,
	// A cancelled sale or negotiation leaves the car unsold.
	"낙찰취소":   vehicle.AuctionNoBid,
	"상담취소":   vehicle.AuctionNoBid,
	"LIVE취소": vehicle.AuctionNoBid,
	"즉시체결":   vehicle.AuctionSold,
}

var (
	regDateRe = regexp.MustCompile(`(\d{4})년\s*(\d{1,2})월`)
	statusRe  = regexp.MustCompile(`해당 차량은\s*(\S+)\s*차량입니다`)
)

// ExtractDetail reads an exhibitView page. A blank lot (no title, start
// price 0) is ErrNotFound. A page without the vehicle-information box, or
// without a field a lot cannot be without (title with its [make], mileage,
// start price, VIN or plate), is ErrDrift naming it; so is a field in a
// form this reader does not know ("31.687km", a price outside the
// plausible range, a status word not in the code table). Fields are found
// by their label, never by their place. Detail pages embed the logged-in
// member's name and phone in scripts: this reads only the fields below,
// and the page is never stored.
func ExtractDetail(body []byte) (Detail, error) {
	if err := checkPage(body); err != nil {
		return Detail{}, err
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return Detail{}, sources.Drift("detail HTML: %v", err)
	}
	title := strings.Join(strings.Fields(doc.Find("h2.car-name").First().Text()), " ")
	stprice, hasPrice := doc.Find("#stprice").Attr("value")
	price := 0.0
	if hasPrice {
		if price, err = strconv.ParseFloat(strings.TrimSpace(stprice), 64); err != nil {
			return Detail{}, sources.Drift("#stprice %q is not a number", stprice)
		}
	}
	if title == "" && price == 0 {
		return Detail{}, fmt.Errorf("%w: blank lot", sources.ErrNotFound)
	}
	box := doc.Find(".spec-box.spec01")
	if box.Length() == 0 {
		return Detail{}, sources.Drift("missing .spec-box.spec01")
	}
	switch {
	case title == "":
		return Detail{}, sources.Drift("missing h2.car-name")
	case !bracketRe.MatchString(title):
		return Detail{}, sources.Drift("title %q does not start with [make]", title)
	case !hasPrice:
		return Detail{}, sources.Drift("missing #stprice (start price)")
	}
	if err := sources.CheckPrice(price * 10000); err != nil {
		return Detail{}, err
	}
	fields := map[string]string{}
	box.Find("dl dt").Each(func(_ int, dt *goquery.Selection) {
		fields[strings.Join(strings.Fields(dt.Text()), "")] = strings.Join(strings.Fields(dt.NextFiltered("dd").Text()), " ")
	})
	d := Detail{
		VIN:          strings.TrimSpace(doc.Find("#h_chasno").First().Text()),
		LicensePlate: strings.TrimSpace(doc.Find("#h_carno").First().Text()),
		PriceKRW:     int64(math.Round(price * 10000)),
		Options:      []string{},
	}
	// Every exhibit page has both elements, blank when the lot has no VIN
	// or plate: one that is gone is a changed page, not an unknown value.
	for _, id := range []string{"#h_chasno", "#h_carno"} {
		if doc.Find(id).Length() == 0 {
			return Detail{}, sources.Drift("missing %s", id)
		}
	}
	if d.VIN == "" && d.LicensePlate == "" {
		return Detail{}, sources.Drift("#h_chasno and #h_carno are both blank")
	}
	km, ok := fields["주행거리"]
	if !ok {
		return Detail{}, sources.Drift("missing 주행거리 (mileage)")
	}
	if d.MileageKm, err = quantity(strings.ToLower(strings.ReplaceAll(km, " ", "")), "", "km", "주행거리"); err != nil {
		return Detail{}, err
	}
	if err := sources.CheckMileage(float64(d.MileageKm)); err != nil {
		return Detail{}, err
	}
	// Optional fields: absent is unknown, present in another form is drift.
	if y := fields["연식"]; y != "" {
		if d.Year, err = quantity(y, "", "형", "연식"); err != nil {
			return Detail{}, err
		}
		if err := sources.CheckYear(d.Year); err != nil {
			return Detail{}, err
		}
	}
	if cc := fields["배기량"]; cc != "" && cc != "-" {
		if d.EngineCC, err = quantity(strings.ToLower(strings.ReplaceAll(cc, " ", "")), "", "cc", "배기량"); err != nil {
			return Detail{}, err
		}
	}
	d.Make, d.Model, d.Trim = titleNames(title)
	d.Fuel, _ = korean.Fuel(fields["연료"])
	if d.Fuel == vehicle.FuelElectric {
		d.EngineCC = 0
	}
	d.Transmission, _ = korean.Transmission(fields["변속기"])
	d.Color, _ = korean.Color(fields["색상"])
	if r := fields["최초등록일"]; r != "" {
		m := regDateRe.FindStringSubmatch(r)
		if m == nil {
			return Detail{}, sources.Drift("최초등록일 %q is not YYYY년 MM월", r)
		}
		month, _ := strconv.Atoi(m[2])
		if month < 1 || month > 12 {
			return Detail{}, sources.Drift("최초등록일 %q", r)
		}
		d.FirstRegistration = fmt.Sprintf("%s-%02d", m[1], month)
	}
	if m := statusRe.FindStringSubmatch(doc.Find(".spec-desc").Text()); m != nil {
		st, ok := statuses[m[1]]
		if !ok {
			return Detail{}, sources.Drift("unknown status %q", m[1])
		}
		d.Status = st
	}
	for _, o := range strings.Split(doc.Find(".new-car-info .option").First().Text(), ",") {
		o = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(o), "-"))
		if o == "" {
			continue
		}
		if tok, ok := korean.Option(o); ok && !slices.Contains(d.Options, tok) {
			d.Options = append(d.Options, tok)
		}
	}
	return d, nil
}

// Enrich adds a detail page's fields to a lot's row. A field the page left
// empty never replaces a value the row has. The auction status is not
// taken from here: which of the list and the page is newer is the
// crawler's to judge (see Crawler).
func Enrich(v vehicle.Vehicle, d Detail) vehicle.Vehicle {
	fill := func(dst *string, s string) {
		if s != "" {
			*dst = s
		}
	}
	fill(&v.VIN, d.VIN)
	fill(&v.LicensePlate, d.LicensePlate)
	fill(&v.FirstRegistration, d.FirstRegistration)
	fill(&v.Color, d.Color) // the page names the paint; the list only its colour word
	if v.Fuel == "" {
		v.Fuel = d.Fuel
	}
	if v.Transmission == "" {
		v.Transmission = d.Transmission
	}
	if v.EngineCC == 0 && v.Fuel != vehicle.FuelElectric {
		v.EngineCC = d.EngineCC
	}
	if len(d.Options) > 0 {
		v.Options = d.Options
	}
	return v
}
