package encar

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// mutation is a realistic change to an answer: the extractor must report
// it as drift or still read it right; a wrong value is the one outcome
// that fails.
type mutation struct {
	name    string
	old     string // replaced once by new
	new     string
	then    [2]string // a second replacement, when the change has two parts
	drift   bool
	correct func(*testing.T, []vehicle.Vehicle) // list rows, or the one detail vehicle
}

// The first row of list-mixed-numbers.json is encar_40120001: 2021,
// 48,210 km, 2,890 만원; read off the file by hand.
var listMutations = []mutation{
	{name: "mileage NaN", old: `"Mileage":48210`, new: `"Mileage":"NaN"`, drift: true},
	{name: "mileage Infinity", old: `"Mileage":48210`, new: `"Mileage":"Infinity"`, drift: true},
	{name: "mileage negative", old: `"Mileage":48210`, new: `"Mileage":-48210`, drift: true},
	{name: "mileage as text with unit", old: `"Mileage":48210`, new: `"Mileage":"48,210km"`, drift: true},
	{name: "mileage renamed", old: `"Mileage":48210`, new: `"Milage":48210`, drift: true},
	{name: "mileage as a float", old: `"Mileage":48210`, new: `"Mileage":48210.0`, correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 48210, v.MileageKm) })},
	{name: "mileage as a string", old: `"Mileage":48210`, new: `"Mileage":"48210"`, correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 48210, v.MileageKm) })},
	{name: "price in won, not 만원", old: `"Price":2890`, new: `"Price":28900000`, drift: true},
	{name: "price NaN", old: `"Price":2890`, new: `"Price":"NaN"`, drift: true},
	{name: "price zero", old: `"Price":2890`, new: `"Price":0`, drift: true},
	{name: "price renamed", old: `"Price":2890`, new: `"SalePrice":2890`, drift: true},
	{name: "price as a grouped string", old: `"Price":2890`, new: `"Price":"2,890"`, correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, int64(28_900_000), v.PriceKRW) })},
	{name: "price as a float", old: `"Price":2890`, new: `"Price":2890.0`, correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, int64(28_900_000), v.PriceKRW) })},
	{name: "model year gone, registration left", old: `"FormYear":"2021",`, new: ``, correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 2021, v.Year) })},
	{name: "model year implausible", old: `"FormYear":"2021"`, new: `"FormYear":"21"`, drift: true},
	{name: "registration without its month", old: `"Year":202103,`, new: `"Year":2021,`, drift: true},
	{name: "registration as a float", old: `"Year":202103,`, new: `"Year":202103.0,`, correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, "2021-03", v.FirstRegistration) })},
	{name: "manufacturer renamed", old: `"Manufacturer":"기아","Model":"쏘렌토 4세대"`, new: `"Maker":"기아","Model":"쏘렌토 4세대"`, drift: true},
	{name: "id as a number", old: `"Id":"40120001"`, new: `"Id":40120001`, drift: true},
	{name: "id not numeric", old: `"Id":"40120001"`, new: `"Id":"A40120001"`, drift: true},
	{name: "results renamed", old: `"SearchResults"`, new: `"Results"`, drift: true},
	{name: "count renamed", old: `"Count"`, new: `"TotalCount"`, drift: true},
	{name: "count huge", old: `"Count":214`, new: `"Count":1e300`, drift: true},
	{name: "count negative", old: `"Count":214`, new: `"Count":-214`, drift: true},
	{name: "count fractional", old: `"Count":214`, new: `"Count":214.5`, drift: true},
	{name: "fuel renamed", old: `"FuelType":"디젤","Transmission":"오토","Year":202103`, new: `"Fuel":"디젤","Transmission":"오토","Year":202103`, drift: true},
	{name: "fuel sent empty", old: `"FuelType":"디젤"`, new: `"FuelType":""`,
		correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.Fuel, "unknown, not guessed") })},
	{name: "fuel with a buyer qualifier", old: `"FuelType":"디젤"`, new: `"FuelType":"LPG(일반인 구입)"`,
		correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.FuelLPG, v.Fuel) })},
	{name: "fuel the contract has no word for", old: `"FuelType":"디젤"`, new: `"FuelType":"가솔린+CNG"`,
		correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.Fuel, "unknown, not guessed") })},
	{name: "price with a fraction of 만원", old: `"Price":2890`, new: `"Price":3290.5`,
		correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, int64(32_905_000), v.PriceKRW) })},
	{name: "maker's company name", old: `"Manufacturer":"기아","Model":"쏘렌토 4세대"`, new: `"Manufacturer":"기아자동차","Model":"쏘렌토 4세대"`,
		correct: first(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [2]string{"Kia", "Sorento"}, [2]string{v.Make, v.Model})
		})},
	{name: "photos gone, photo stem left", old: `"Photos":[{"type":"003","location":"/carpicture01/pic4012/40120001_003.jpg","ordering":3.0},{"type":"001","location":"/carpicture01/pic4012/40120001_001.jpg","ordering":1.0}],`, new: ``,
		correct: first(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, PhotoBase+"/carpicture01/pic4012/40120001_001.jpg", v.PhotoURL)
		})},
	{name: "date in another format", old: `"2025-06-17 09:12:44.000 +09"`, new: `"2025/06/17"`,
		correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.True(t, v.ListedAt.IsZero(), "unknown, not a wrong day") })},
	{name: "a lease transfer", old: `"SellType":"일반","ServiceCopyCar":"ORIGINAL","OfficeCityState":"경기"`, new: `"SellType":"리스","ServiceCopyCar":"ORIGINAL","OfficeCityState":"경기"`,
		correct: func(t *testing.T, rows []vehicle.Vehicle) {
			assert.NotEqual(t, "encar_40120001", rows[0].ID, "left out")
		}},
	{name: "a re-advertised copy", old: `"ServiceCopyCar":"ORIGINAL","OfficeCityState":"경기","Photo":"/carpicture01`, new: `"ServiceCopyCar":"DUPLICATION","OfficeCityState":"경기","Photo":"/carpicture01`,
		correct: func(t *testing.T, rows []vehicle.Vehicle) {
			assert.NotEqual(t, "encar_40120001", rows[0].ID, "left out")
		}},
	{name: "an unknown field added", old: `"Id":"40120001"`, new: `"Id":"40120001","Badges":["new"]`,
		correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, "encar_40120001", v.ID) })},
	{name: "model group sent", old: `"Manufacturer":"기아","Model":"쏘렌토 4세대"`, new: `"Manufacturer":"기아","ModelGroup":"쏘렌토","Model":"더 뉴 쏘렌토 4세대"`,
		correct: first(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, "Sorento", v.Model) })},
}

// detail-readside.json is encar_41230001: 1,050 만원 … read off the file.
var detailMutations = []mutation{
	{name: "mileage NaN", old: `"mileage": 165182`, new: `"mileage": "NaN"`, drift: true},
	{name: "mileage negative", old: `"mileage": 165182`, new: `"mileage": -165182`, drift: true},
	{name: "mileage renamed", old: `"mileage": 165182`, new: `"odometer": 165182`, drift: true},
	{name: "price in won", old: `"price": 1050`, new: `"price": 10500000`, drift: true},
	{name: "price Infinity", old: `"price": 1050`, new: `"price": "Infinity"`, drift: true},
	{name: "price as a string", old: `"price": 1050`, new: `"price": "1,050"`, correct: one(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, int64(10_500_000), v.PriceKRW) })},
	{name: "status renamed", old: `"status": "ADVERTISE"`, new: `"adStatus": "ADVERTISE"`, drift: true},
	{name: "spec renamed", old: `"spec"`, new: `"specification"`, drift: true},
	{name: "manufacturer renamed", old: `"manufacturerName"`, new: `"makerName"`, drift: true},
	{name: "a re-listed ad: no queryCarId", old: `"queryCarId": 41230001`, new: `"queryCarIdX": 0`,
		correct: one(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, "encar_41230001", v.ID, "manage.dummyVehicleId")
		})},
	{name: "a re-listed ad: the listing id in manage", old: `"queryCarId": 41230001`, new: `"queryCarIdX": 0`,
		then:    [2]string{`"dummyVehicleId": 41230001`, `"dummyVehicleId": 41230099`},
		correct: one(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, "encar_41230099", v.ID) })},
	{name: "no vin (a private seller)", old: `"vin"`, new: `"vinX"`, correct: one(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.VIN) })},
	{name: "colour unknown", old: `"colorName": "검정색"`, new: `"colorName": "무지개"`, correct: one(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.Color) })},
	{name: "fuel renamed", old: `"fuelName"`, new: `"fuel"`, drift: true},
	{name: "colour renamed", old: `"colorName"`, new: `"color"`, drift: true},
	{name: "plate renamed", old: `"vehicleNo"`, new: `"plateNo"`, drift: true},
	{name: "plate null", old: `"vehicleNo": "12가3456"`, new: `"vehicleNo": null`, correct: one(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.LicensePlate) })},
	{name: "fuel with a buyer qualifier", old: `"fuelName": "디젤"`, new: `"fuelName": "LPG(일반인 구입)"`, correct: one(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.FuelLPG, v.Fuel) })},
	{name: "price with a fraction of 만원", old: `"price": 1050`, new: `"price": 3290.5`, correct: one(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, int64(32_905_000), v.PriceKRW) })},
	{name: "maker's company name, no English name", old: `"manufacturerName": "기아"`, new: `"manufacturerName": "기아자동차"`,
		then:    [2]string{`"manufacturerEnglishName": "Kia"`, `"manufacturerEnglishName": ""`},
		correct: one(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, "Kia", v.Make) })},
}

func first(want func(*testing.T, vehicle.Vehicle)) func(*testing.T, []vehicle.Vehicle) {
	return func(t *testing.T, rows []vehicle.Vehicle) {
		require.NotEmpty(t, rows)
		require.Equal(t, "encar_40120001", rows[0].ID)
		want(t, rows[0])
	}
}

func one(want func(*testing.T, vehicle.Vehicle)) func(*testing.T, []vehicle.Vehicle) {
	return func(t *testing.T, rows []vehicle.Vehicle) { want(t, rows[0]) }
}

func TestMutations(t *testing.T) {
	run := func(t *testing.T, file string, table []mutation, extract func([]byte) ([]vehicle.Vehicle, error)) (drift, correct int) {
		base, err := os.ReadFile(testdata + "/" + file)
		require.NoError(t, err)
		for _, m := range table {
			t.Run(m.name, func(t *testing.T) {
				require.Contains(t, string(base), m.old, "the mutation must apply")
				body := strings.Replace(string(base), m.old, m.new, 1)
				if m.then[0] != "" {
					require.Contains(t, body, m.then[0])
					body = strings.Replace(body, m.then[0], m.then[1], 1)
				}
				rows, err := extract([]byte(body))
				if m.drift {
					require.ErrorIs(t, err, sources.ErrDrift)
					drift++
					return
				}
				require.NoError(t, err)
				m.correct(t, rows)
				if !t.Failed() {
					correct++
				}
			})
		}
		return drift, correct
	}
	ld, lc := run(t, "list-mixed-numbers.json", listMutations, func(b []byte) ([]vehicle.Vehicle, error) {
		l, err := ExtractList(b, 0, 500)
		if err != nil {
			return nil, err
		}
		return l.Rows, nil
	})
	dd, dc := run(t, "detail-readside.json", detailMutations, func(b []byte) ([]vehicle.Vehicle, error) {
		v, err := ExtractDetail(b)
		return []vehicle.Vehicle{v}, err
	})
	t.Logf("encar list: %d mutations, %d reported as drift, %d read correctly", len(listMutations), ld, lc)
	t.Logf("encar detail: %d mutations, %d reported as drift, %d read correctly", len(detailMutations), dd, dc)
	assert.Equal(t, len(listMutations)+len(detailMutations), ld+lc+dd+dc)
}
