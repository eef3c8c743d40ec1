// Package vehicle holds the domain: the normalised vehicle every source is
// translated into, the search query, and the enums of the public contract.
// It does no I/O.
package vehicle

import (
	"slices"
	"time"
)

// Source names an upstream this service reads.
type Source string

// The sources built in, for their own packages and for tests; the service
// itself learns its sources from the registry (package registry), which
// lists them here with their kind as each registers.
const (
	Glovis Source = "glovis"
	Encar  Source = "encar"
	Danawa Source = "danawa"
	KCar   Source = "kcar"
)

// sources are the registered sources, auctions first, each kind in the
// order it registered: the fixed order of lists and headers (glovis,kcar;
// encar,danawa).
var (
	auctions []Source
	dealers  []Source
)

// RegisterSource adds s, of the given kind, to the lists below. The
// registry calls it; it is not safe to call while requests are served.
func RegisterSource(s Source, dealer bool) {
	if dealer {
		dealers = append(dealers, s)
	} else {
		auctions = append(auctions, s)
	}
}

// DealerSources are the live dealer upstreams, in the fixed order the
// partial-failure header uses.
func DealerSources() []Source { return dealers }

// AuctionSources are the auction houses, each served from its own index, in
// the fixed order of X-LMN-Partial-Auction-Unavailable.
func AuctionSources() []Source { return auctions }

// AllSources are every registered source: auctions, then dealers.
func AllSources() []Source { return append(append([]Source(nil), auctions...), dealers...) }

// IsDealer reports whether s is a live dealer source.
func (s Source) IsDealer() bool { return slices.Contains(dealers, s) }

// IsAuction reports whether s is an auction source.
func (s Source) IsAuction() bool { return slices.Contains(auctions, s) }

// KST is Korean time. Korean events keep their own offset on the wire (never Z).
var KST = time.FixedZone("KST", 9*60*60)

// Vehicle is one listing, normalised to English values. A list extractor fills
// the summary fields; a detail extractor also fills the detail fields.
//
// Prices are kept in won: the conversion to dollars depends on the configured
// rate and happens when a response is written.
type Vehicle struct {
	ID           string
	Source       Source
	Make         string
	Model        string
	Trim         string // "" when unknown
	Year         int    // model year
	MileageKm    int
	Fuel         string // Fuel* constant or ""
	Transmission string // Transmission* constant or ""
	Color        string // English, lower case, or ""
	EngineCC     int    // 0 when unknown
	Drivetrain   string // FWD RWD AWD 4WD or ""
	Options      []string

	AccidentGrade string // A..F, auction rows only
	ExteriorGrade string // A..F, auction rows only
	Auction       *Auction

	PriceKRW int64
	PhotoURL string
	ListedAt time.Time // zero when unknown

	// Detail fields.
	VIN               string
	LicensePlate      string
	FirstRegistration string // YYYY-MM
	Photos            []string
	Seller            *Seller
	SourceURL         string
	FetchedAt         time.Time
}

// Auction describes the lot of an auction row.
type Auction struct {
	Date      time.Time // auction start, Korean time
	Site      string    // English site name, e.g. "Yangsan"
	LotNumber int
	Round     int
	Status    string // AuctionStatus* constant
	Count     int    // times this physical car has been put up, current round included
}

// Seller is who offers the car.
type Seller struct {
	Type   string // dealer, private, auction
	Name   string
	Region string
}

// Fuel values of the public contract.
const (
	FuelGasoline       = "gasoline"
	FuelDiesel         = "diesel"
	FuelHybrid         = "hybrid"
	FuelElectric       = "electric"
	FuelLPG            = "lpg"
	FuelHydrogen       = "hydrogen"
	FuelGasolineHybrid = "gasoline_hybrid"
	FuelDieselHybrid   = "diesel_hybrid"
	FuelPlugInHybrid   = "plug_in_hybrid"
)

// Fuels lists every fuel value, in the order the contract documents them.
var Fuels = []string{FuelGasoline, FuelDiesel, FuelHybrid, FuelElectric, FuelLPG, FuelHydrogen,
	FuelGasolineHybrid, FuelDieselHybrid, FuelPlugInHybrid}

// Transmission values of the public contract.
const (
	TransmissionAuto   = "auto"
	TransmissionManual = "manual"
	TransmissionCVT    = "cvt"
	TransmissionDCT    = "dct"
)

// Transmissions lists every transmission value.
var Transmissions = []string{TransmissionAuto, TransmissionManual, TransmissionCVT, TransmissionDCT}

// Auction status values of the public contract.
const (
	AuctionUpcoming             = "upcoming"
	AuctionSold                 = "sold"
	AuctionNegotiationSold      = "negotiation_sold"
	AuctionNoBid                = "no_bid"
	AuctionNegotiationRequested = "negotiation_requested"
)

// AuctionStatuses lists every auction status value.
var AuctionStatuses = []string{AuctionUpcoming, AuctionSold, AuctionNegotiationSold, AuctionNoBid, AuctionNegotiationRequested}

// Grades are the accident and exterior grades, best first.
var Grades = []string{"A", "B", "C", "D", "F"}

// Colors are the colour values rows carry (English, lower case).
var Colors = []string{"black", "white", "gray", "silver", "blue", "red", "brown", "green", "yellow", "orange", "beige", "gold"}

// OptionTokens are the option tokens rows can carry.
var OptionTokens = []string{"sunroof", "panoramic_sunroof", "leather_seats", "navigation", "rear_camera", "dashcam",
	"heated_seats", "ventilated_seats", "smart_key", "around_view_monitor", "head_up_display", "cruise_control",
	"electronic_parking_brake", "lane_departure_warning", "blind_spot_warning"}

// DealerUnanswerableOptions cannot be told from dealer listings: a request
// for them that includes dealer sources is refused rather than answered
// with rows that may lack them.
var DealerUnanswerableOptions = []string{"panoramic_sunroof", "dashcam"}
