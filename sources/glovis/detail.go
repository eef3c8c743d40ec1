package glovis

import (
	"bytes"
	"fmt"
	"regexp"
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

// statuses maps the detail page's status words (code table 00..09).
var statuses = map[string]string{
	"경매진행": vehicle.AuctionUpcoming, // 00: on the block now
	"미경매":  vehicle.AuctionUpcoming, // 01
	"낙찰":   vehicle.AuctionSold,     // 02
	"유찰":   vehicle.AuctionNoBid,    // 03
	"상담접수": vehicle.AuctionNegotiationRequested,
	"상담체결": vehicle.AuctionNegotiationSold,
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
// price 0) is ErrNotFound; a page without the vehicle-information box is
// ErrDrift. Detail pages embed the logged-in member's name and phone in
// scripts: this reads only the fields below, and the page is never stored.
func ExtractDetail(body []byte) (Detail, error) {
	if err := checkPage(body); err != nil {
		return Detail{}, err
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return Detail{}, sources.Drift("detail HTML: %v", err)
	}
	title := strings.Join(strings.Fields(doc.Find("h2.car-name").First().Text()), " ")
	price := 0.0
	if v, ok := doc.Find("#stprice").Attr("value"); ok {
		price, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
	}
	if title == "" && price == 0 {
		return Detail{}, fmt.Errorf("%w: blank lot", sources.ErrNotFound)
	}
	box := doc.Find(".spec-box.spec01")
	if box.Length() == 0 {
		return Detail{}, sources.Drift("missing .spec-box.spec01")
	}
	fields := map[string]string{}
	box.Find("dl dt").Each(func(_ int, dt *goquery.Selection) {
		fields[strings.TrimSpace(dt.Text())] = strings.Join(strings.Fields(dt.NextFiltered("dd").Text()), " ")
	})
	d := Detail{
		VIN:          strings.TrimSpace(doc.Find("#h_chasno").First().Text()),
		LicensePlate: strings.TrimSpace(doc.Find("#h_carno").First().Text()),
		PriceKRW:     int64(price) * 10000,
		Options:      []string{},
	}
	if d.VIN == "" && d.LicensePlate == "" {
		return Detail{}, sources.Drift("missing #h_chasno and #h_carno")
	}
	d.Make, d.Model, d.Trim = titleNames(title)
	d.Year, _ = sources.Number(fields["연식"])
	d.MileageKm, _ = sources.Number(fields["주행거리"])
	d.EngineCC, _ = sources.Number(fields["배기량"])
	d.Fuel, _ = korean.Fuel(fields["연료"])
	d.Transmission, _ = korean.Transmission(fields["변속기"])
	d.Color, _ = korean.Color(fields["색상"])
	if m := regDateRe.FindStringSubmatch(fields["최초등록일"]); m != nil {
		month, _ := strconv.Atoi(m[2])
		d.FirstRegistration = fmt.Sprintf("%s-%02d", m[1], month)
	}
	if m := statusRe.FindStringSubmatch(doc.Find(".spec-desc").Text()); m != nil {
		d.Status = statuses[m[1]]
	}
	for _, o := range strings.Split(doc.Find(".new-car-info .option").First().Text(), ",") {
		o = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(o), "-"))
		if o == "" {
			continue
		}
		if tok, ok := korean.Option(o); ok && !contains(d.Options, tok) {
			d.Options = append(d.Options, tok)
		}
	}
	return d, nil
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// Enrich adds a detail page's fields to a lot's row.
func Enrich(v vehicle.Vehicle, d Detail) vehicle.Vehicle {
	v.VIN, v.LicensePlate, v.FirstRegistration = d.VIN, d.LicensePlate, d.FirstRegistration
	v.Options = d.Options
	if d.Color != "" {
		v.Color = d.Color
	}
	if v.Auction != nil && d.Status != "" {
		a := *v.Auction
		a.Status = d.Status
		v.Auction = &a
	}
	return v
}
