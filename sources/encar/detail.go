package encar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// detailJSON is the readside vehicle object (and the public page's
// __PRELOADED_STATE__.cars.base).
type detailJSON struct {
	// QueryCarID is the ad's id, the one in URLs and search rows. VehicleID
	// names the underlying vehicle record, which differs for re-listed ads;
	// their answer may lack queryCarId and carry the ad's id in
	// manage.dummyVehicleId.
	QueryCarID number  `json:"queryCarId"`
	VehicleID  number  `json:"vehicleId"`
	VehicleNo  present `json:"vehicleNo"`
	VIN        string  `json:"vin"`
	Manage     *struct {
		DummyVehicleID          number `json:"dummyVehicleId"`
		FirstAdvertisedDateTime string `json:"firstAdvertisedDateTime"`
		RegistDateTime          string `json:"registDateTime"`
	} `json:"manage"`
	Category *struct {
		ManufacturerName        string `json:"manufacturerName"`
		ManufacturerEnglishName string `json:"manufacturerEnglishName"`
		ModelName               string `json:"modelName"`
		ModelGroupName          string `json:"modelGroupName"`
		ModelGroupEnglishName   string `json:"modelGroupEnglishName"`
		GradeName               string `json:"gradeName"`
		GradeEnglishName        string `json:"gradeEnglishName"`
		YearMonth               string `json:"yearMonth"`
		FormYear                number `json:"formYear"`
	} `json:"category"`
	Advertisement *struct {
		Price       number  `json:"price"`
		Status      *string `json:"status"`
		SalesStatus *string `json:"salesStatus"`
	} `json:"advertisement"`
	Contact *struct {
		UserType string `json:"userType"`
		Address  string `json:"address"`
	} `json:"contact"`
	Spec *struct {
		Mileage          number  `json:"mileage"`
		Displacement     number  `json:"displacement"`
		TransmissionName string  `json:"transmissionName"`
		FuelName         present `json:"fuelName"`
		ColorName        present `json:"colorName"`
	} `json:"spec"`
	Photos []struct {
		Code string `json:"code"`
		Path string `json:"path"`
	} `json:"photos"`
	Partnership *struct {
		Dealer *struct {
			Firm *struct {
				Name string `json:"name"`
			} `json:"firm"`
		} `json:"dealer"`
	} `json:"partnership"`
}

// present is a string member whose absence is told from an empty or null
// value: every real answer carries spec.fuelName, spec.colorName and
// vehicleNo, so one without them is a renamed key (drift), not a car whose
// fuel, colour or plate is unknown.
type present struct {
	s   string
	set bool
}

// UnmarshalJSON is called for null too: null is sent, and unknown.
func (p *present) UnmarshalJSON(b []byte) error {
	p.set = true
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &p.s)
}

const preloaded = "__PRELOADED_STATE__"

// ExtractDetail reads a vehicle from the readside API's JSON or from the
// public detail page, which embeds the same object as
// __PRELOADED_STATE__ = {…} at .cars.base. An ad that is not advertised, or
// is under contract, is ErrNotFound: it is not for sale.
func ExtractDetail(body []byte) (vehicle.Vehicle, error) {
	raw, err := detailObject(body)
	if err != nil {
		return vehicle.Vehicle{}, err
	}
	var d detailJSON
	if err := json.Unmarshal(raw, &d); err != nil {
		return vehicle.Vehicle{}, sources.Drift("detail JSON: %v", err)
	}
	switch {
	case d.Advertisement == nil || d.Advertisement.Status == nil:
		return vehicle.Vehicle{}, sources.Drift("missing advertisement.status")
	case d.Category == nil || d.Category.ManufacturerName == "":
		return vehicle.Vehicle{}, sources.Drift("missing category.manufacturerName")
	case d.Spec == nil || !d.Spec.Mileage.set:
		return vehicle.Vehicle{}, sources.Drift("missing spec.mileage")
	case !d.Advertisement.Price.set:
		return vehicle.Vehicle{}, sources.Drift("missing advertisement.price")
	case !d.VehicleID.set:
		return vehicle.Vehicle{}, sources.Drift("missing vehicleId")
	case !d.Spec.FuelName.set:
		return vehicle.Vehicle{}, sources.Drift("missing spec.fuelName")
	case !d.Spec.ColorName.set:
		return vehicle.Vehicle{}, sources.Drift("missing spec.colorName")
	case !d.VehicleNo.set:
		return vehicle.Vehicle{}, sources.Drift("missing vehicleNo")
	}
	if err := sources.CheckMileage(d.Spec.Mileage.v); err != nil {
		return vehicle.Vehicle{}, err
	}
	if err := sources.CheckPrice(d.Advertisement.Price.v * 10000); err != nil {
		return vehicle.Vehicle{}, err
	}
	if st := *d.Advertisement.Status; st != "ADVERTISE" {
		return vehicle.Vehicle{}, fmt.Errorf("%w: advertisement status %s", sources.ErrNotFound, st)
	}
	if ss := d.Advertisement.SalesStatus; ss != nil && *ss == "CONTRACT" {
		return vehicle.Vehicle{}, fmt.Errorf("%w: under contract", sources.ErrNotFound)
	}
	return d.vehicle(), nil
}

// detailObject finds the vehicle object: the body itself, or the
// .cars.base of the state a detail page preloads.
func detailObject(body []byte) ([]byte, error) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return nil, sources.Drift("empty body")
	}
	if t[0] == '{' {
		return t, nil
	}
	i := bytes.Index(t, []byte(preloaded))
	if i < 0 {
		if t[0] == '<' {
			return nil, fmt.Errorf("%w: HTML page without %s", sources.ErrBlocked, preloaded)
		}
		return nil, sources.Drift("body is neither JSON nor a detail page")
	}
	rest := t[i+len(preloaded):]
	j := bytes.IndexByte(rest, '{')
	if j < 0 {
		return nil, sources.Drift("%s without an object", preloaded)
	}
	var state struct {
		Cars *struct {
			Base json.RawMessage `json:"base"`
		} `json:"cars"`
	}
	// The decoder stops at the end of the object, whatever script follows it.
	if err := json.NewDecoder(bytes.NewReader(rest[j:])).Decode(&state); err != nil {
		return nil, sources.Drift("%s: %v", preloaded, err)
	}
	if state.Cars == nil || len(state.Cars.Base) == 0 || string(state.Cars.Base) == "null" {
		return nil, sources.Drift("missing %s.cars.base", preloaded)
	}
	return state.Cars.Base, nil
}

func (d *detailJSON) vehicle() vehicle.Vehicle {
	c, sp := d.Category, d.Spec
	id := fmt.Sprint(d.VehicleID.int())
	switch {
	case d.QueryCarID.set:
		id = fmt.Sprint(d.QueryCarID.int())
	case d.Manage != nil && d.Manage.DummyVehicleID.set:
		id = fmt.Sprint(d.Manage.DummyVehicleID.int())
	}
	v := vehicle.Vehicle{
		ID:           "encar_" + id,
		Source:       vehicle.Encar,
		MileageKm:    sp.Mileage.int(),
		EngineCC:     sp.Displacement.int(),
		PriceKRW:     krw(d.Advertisement.Price.v),
		VIN:          d.VIN,
		LicensePlate: d.VehicleNo.s,
		Options:      []string{},
		Photos:       []string{},
		SourceURL:    "https://fem.encar.com/cars/detail/" + id,
	}
	// Encar's own English names win; the dictionary fills what they lack.
	v.Make, v.Model = names(c.ManufacturerName, c.ModelGroupName+" "+c.ModelName)
	if c.ManufacturerEnglishName != "" {
		v.Make = c.ManufacturerEnglishName
	}
	if c.ModelGroupEnglishName != "" {
		v.Model = c.ModelGroupEnglishName
	}
	v.Trim = c.GradeEnglishName
	if v.Trim == "" {
		v.Trim = c.GradeName
	}
	v.Year = c.FormYear.int()
	if len(c.YearMonth) == 6 {
		v.FirstRegistration = c.YearMonth[:4] + "-" + c.YearMonth[4:]
		if v.Year == 0 {
			fmt.Sscan(c.YearMonth[:4], &v.Year)
		}
	}
	v.Fuel, _ = korean.Fuel(sp.FuelName.s)
	v.Transmission, _ = korean.Transmission(sp.TransmissionName)
	v.Color, _ = korean.Color(sp.ColorName.s)
	v.Drivetrain = korean.Drivetrain(c.GradeName)
	// Photos by their code (001 is the front three-quarter view), each once.
	photos := slices.Clone(d.Photos)
	slices.SortStableFunc(photos, func(a, b struct {
		Code string `json:"code"`
		Path string `json:"path"`
	}) int {
		return strings.Compare(a.Code, b.Code)
	})
	for _, p := range photos {
		if u := PhotoBase + p.Path; p.Path != "" && !slices.Contains(v.Photos, u) {
			v.Photos = append(v.Photos, u)
		}
	}
	if len(v.Photos) > 0 {
		v.PhotoURL = v.Photos[0]
	}
	if d.Manage != nil {
		for _, s := range []string{d.Manage.FirstAdvertisedDateTime, d.Manage.RegistDateTime} {
			// Readside timestamps carry no zone: they are Korean time.
			if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, vehicle.KST); err == nil {
				v.ListedAt = t
				break
			}
		}
	}
	seller := &vehicle.Seller{Type: "dealer"}
	if d.Contact != nil {
		if d.Contact.UserType != "" && d.Contact.UserType != "DEALER" {
			seller.Type = "private"
		}
		seller.Region, _, _ = strings.Cut(d.Contact.Address, " ")
	}
	if p := d.Partnership; p != nil && p.Dealer != nil && p.Dealer.Firm != nil {
		seller.Name = p.Dealer.Firm.Name
	}
	v.Seller = seller
	return v
}
