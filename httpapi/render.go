package httpapi

import (
	"math"
	"time"

	"github.com/lmn/aggregator/vehicle"
)

// The wire shapes of SPEC §7. Every nullable field is a pointer without
// omitempty, so it is present as null rather than missing.

type summaryJSON struct {
	ID            string       `json:"id"`
	Source        string       `json:"source"`
	DealerSource  *string      `json:"dealer_source"`
	Make          string       `json:"make"`
	Model         string       `json:"model"`
	Trim          *string      `json:"trim"`
	Year          int          `json:"year"`
	MileageKm     int          `json:"mileage_km"`
	Fuel          *string      `json:"fuel"`
	Transmission  *string      `json:"transmission"`
	Color         *string      `json:"color"`
	EngineCC      *int         `json:"engine_cc"`
	Drivetrain    *string      `json:"drivetrain"`
	Options       []string     `json:"options"`
	AccidentGrade *string      `json:"accident_grade"`
	ExteriorGrade *string      `json:"exterior_grade"`
	Auction       *auctionJSON `json:"auction"`
	Pricing       pricingJSON  `json:"pricing"`
	PhotoURL      *string      `json:"photo_url"`
	ListedAt      *string      `json:"listed_at"`
}

type auctionJSON struct {
	Date      string `json:"date"`
	Site      string `json:"site"`
	LotNumber int    `json:"lot_number"`
	Round     *int   `json:"round"` // null where the auction numbers no rounds (K Car)
	Status    string `json:"status"`
	Count     int    `json:"count"`
}

type pricingJSON struct {
	ListingPrice *int `json:"listing_price"`
}

// usd converts won to whole dollars at rate won per dollar.
func usd(krw int64, rate float64) int { return int(math.Round(float64(krw) / rate)) }

// price is the listing price in dollars, nil when the source published
// none (a K Car lot before its start price is set): never a 0 that reads
// as a free car.
func price(krw int64, rate float64) *int {
	if krw <= 0 {
		return nil
	}
	p := usd(krw, rate)
	return &p
}

// positive is n, nil when n is 0 (not known).
func positive(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(vehicle.KST).Format(time.RFC3339)
	return &s
}

func summary(v *vehicle.Vehicle, rate float64) summaryJSON {
	s := summaryJSON{
		ID: v.ID, Make: v.Make, Model: v.Model, Trim: str(v.Trim), Year: v.Year, MileageKm: v.MileageKm,
		Fuel: str(v.Fuel), Transmission: str(v.Transmission), Color: str(v.Color), Drivetrain: str(v.Drivetrain),
		Options: v.Options, AccidentGrade: str(v.AccidentGrade), ExteriorGrade: str(v.ExteriorGrade),
		Pricing: pricingJSON{ListingPrice: price(v.PriceKRW, rate)}, PhotoURL: str(v.PhotoURL), ListedAt: timestamp(v.ListedAt),
	}
	if s.Options == nil {
		s.Options = []string{}
	}
	if v.EngineCC > 0 {
		cc := v.EngineCC
		s.EngineCC = &cc
	}
	if v.Source.IsDealer() {
		s.Source = "dealer"
		s.DealerSource = str(string(v.Source))
	} else {
		s.Source = string(v.Source)
	}
	if a := v.Auction; a != nil {
		date := ""
		if t := timestamp(a.Date); t != nil {
			date = *t
		}
		s.Auction = &auctionJSON{Date: date, Site: a.Site, LotNumber: a.LotNumber, Round: positive(a.Round), Status: a.Status, Count: a.Count}
	}
	return s
}

type detailJSON struct {
	summaryJSON
	VIN               *string           `json:"vin"`
	LicensePlate      *string           `json:"license_plate"`
	FirstRegistration *string           `json:"first_registration"`
	Photos            []string          `json:"photos"`
	Seller            *sellerJSON       `json:"seller"`
	Pricing           detailPricingJSON `json:"pricing"`
	SourceURL         *string           `json:"source_url"`
	FetchedAt         *string           `json:"fetched_at"`
}

type sellerJSON struct {
	Type   string  `json:"type"`
	Name   *string `json:"name"`
	Region *string `json:"region"`
}

type detailPricingJSON struct {
	ListingPrice    *int    `json:"listing_price"`
	FXRate          float64 `json:"fx_rate"`
	ListingPriceKRW *int64  `json:"listing_price_krw"`
}

func detail(v *vehicle.Vehicle, rate float64) detailJSON {
	d := detailJSON{
		summaryJSON: summary(v, rate), VIN: str(v.VIN), LicensePlate: str(v.LicensePlate),
		FirstRegistration: str(v.FirstRegistration), Photos: v.Photos, SourceURL: str(v.SourceURL),
		FetchedAt: timestamp(v.FetchedAt),
		Pricing:   detailPricingJSON{ListingPrice: price(v.PriceKRW, rate), FXRate: rate},
	}
	if v.PriceKRW > 0 {
		krw := v.PriceKRW
		d.Pricing.ListingPriceKRW = &krw
	}
	if d.Photos == nil {
		d.Photos = []string{}
		if v.PhotoURL != "" {
			d.Photos = []string{v.PhotoURL}
		}
	}
	if s := v.Seller; s != nil {
		d.Seller = &sellerJSON{Type: s.Type, Name: str(s.Name), Region: str(s.Region)}
	}
	return d
}
