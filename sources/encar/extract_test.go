package encar

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/internal/golden"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

func TestExtractListRealCaptures(t *testing.T) {
	l, err := ExtractList(golden.Capture(t, "encar/search-list-compact.json"), 0, 500)
	require.NoError(t, err)
	assert.Equal(t, 1, l.Total)
	require.Len(t, l.Rows, 1)
	v := l.Rows[0]
	assert.Equal(t, "encar_39390555", v.ID)
	assert.Equal(t, "BMW", v.Make)
	assert.Equal(t, "5 Series", v.Model)
	assert.Equal(t, "530i xDrive M 스포츠", v.Trim)
	assert.Equal(t, 2023, v.Year, "FormYear is the model year")
	assert.Equal(t, "2022-11", v.FirstRegistration, "Year is the first registration, sent as a float")
	assert.Equal(t, 68054, v.MileageKm)
	assert.Equal(t, int64(60_900_000), v.PriceKRW)
	assert.Equal(t, vehicle.FuelGasoline, v.Fuel)
	assert.Equal(t, "AWD", v.Drivetrain)
	assert.Equal(t, PhotoBase+"/carpicture09/pic3939/39390555_001.jpg", v.PhotoURL)

	l, err = ExtractList(golden.Capture(t, "encar/search-list-duplication.json"), 0, 500)
	require.NoError(t, err)
	assert.Equal(t, 27, l.Total)
	assert.Equal(t, 1, l.Raw)
	assert.Empty(t, l.Rows, "ServiceCopyCar=DUPLICATION rows are re-ads of another ad")
}

// TestExtractListMobileCapture: the /list/mobile answer (floats
// everywhere, ModelGroup, 42 DUPLICATION rows); figures counted from the
// file with a separate script.
func TestExtractListMobileCapture(t *testing.T) {
	l, err := ExtractList(golden.Capture(t, "encar/search-list-mobile-200.json"), 0, 500)
	require.NoError(t, err)
	assert.Equal(t, 205, l.Total)
	assert.Equal(t, 200, l.Raw)
	require.Len(t, l.Rows, 158)
	diesel := 0
	for _, v := range l.Rows {
		assert.Equal(t, [2]string{"Kia", "Sorento"}, [2]string{v.Make, v.Model}, v.ID)
		assert.Regexp(t, `^https://fem\.encar\.com/cars/detail/\d+$`, v.SourceURL)
		if v.Fuel == vehicle.FuelDiesel {
			diesel++
		}
	}
	assert.Equal(t, 138, diesel)
	v := l.Rows[0]
	assert.Equal(t, "encar_35418097", v.ID)
	assert.Equal(t, [4]int{2019, 99731, 0, 0}, [4]int{v.Year, v.MileageKm})
	assert.Equal(t, int64(22_000_000), v.PriceKRW)
	assert.Equal(t, "2018-12", v.FirstRegistration)
	assert.Equal(t, "디젤 2.0 4WD 프레스티지", v.Trim)
}

func TestExtractListFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want error
	}{
		"html":            {`<html><body>captcha</body></html>`, sources.ErrBlocked},
		"renamed":         {`{"count":1,"results":[]}`, sources.ErrDrift},
		"no price":        {`{"Count":1,"SearchResults":[{"Id":"1","Manufacturer":"기아","Model":"K5","FormYear":"2020","Mileage":1}]}`, sources.ErrDrift},
		"price not a num": {`{"Count":1,"SearchResults":[{"Id":"1","Manufacturer":"기아","Model":"K5","FormYear":"2020","Mileage":1,"Price":"상담"}]}`, sources.ErrDrift},
		"empty body":      {``, sources.ErrDrift},
	} {
		_, err := ExtractList([]byte(tc.body), 0, 500)
		assert.ErrorIs(t, err, tc.want, name)
	}
	l, err := ExtractList([]byte(`{"Count":0,"SearchResults":[]}`), 0, 500)
	require.NoError(t, err, "a well-formed empty answer is a success")
	assert.Empty(t, l.Rows)

	emptied := []byte(`{"Count":214,"SearchResults":[]}`)
	_, err = ExtractList(emptied, 0, 500)
	assert.ErrorIs(t, err, sources.ErrDrift, "no rows while the count says 214")
	_, err = ExtractList(emptied, 0, 0)
	assert.NoError(t, err, "a count-only call asks for no rows")
	_, err = ExtractList(emptied, 300, 500)
	assert.NoError(t, err, "past the end")
}

func TestExpression(t *testing.T) {
	assert.Equal(t, "(And.Hidden.N._.(C.CarType.Y._.(C.Manufacturer.기아._.ModelGroup.쏘렌토.)))", Expression(Search{Makes: []string{"Kia"}, Models: []string{"Sorento"}}))
	assert.Equal(t, "(And.Hidden.N._.(Or.(C.CarType.Y._.(C.Manufacturer.기아.))_.(C.CarType.N._.(C.Manufacturer.BMW.))))", Expression(Search{Makes: []string{"kia", "BMW"}}))
	km, reg := 80000, 202000
	assert.Equal(t, "(And.Hidden.N._.(C.CarType.Y._.(C.Manufacturer.기아._.(Or.ModelGroup.쏘렌토._.ModelGroup.카니발.)))_.Price.range(1500..4000)._.Mileage.range(0..80000)._.Year.range(202000..999999999).)",
		Expression(Search{Makes: []string{"Kia"}, Models: []string{"Sorento", "Carnival"}, PriceManwon: &[2]int{1500, 4000}, MileageMaxKm: &km, RegisteredFrom: &reg}))
}

func TestExtractDetailRealCapture(t *testing.T) {
	v, err := ExtractDetail(golden.Capture(t, "encar/readside-vehicle-40849700.json"))
	require.NoError(t, err)
	assert.Equal(t, "encar_40849700", v.ID, "the ad id (queryCarId), not the vehicle record's")
	assert.Equal(t, "https://fem.encar.com/cars/detail/40849700", v.SourceURL)
	assert.Equal(t, "Kia", v.Make)
	assert.Equal(t, "Sportage", v.Model)
	assert.Equal(t, "Diesel 2WD Noblesse", v.Trim, "Encar's own English names win")
	assert.Equal(t, 2016, v.Year)
	assert.Equal(t, "2016-01", v.FirstRegistration)
	assert.Equal(t, 165182, v.MileageKm)
	assert.Equal(t, int64(10_500_000), v.PriceKRW)
	assert.Equal(t, "KNAPN813BGK034698", v.VIN)
	assert.Equal(t, "17서0516", v.LicensePlate)
	assert.Equal(t, "black", v.Color)
	assert.Equal(t, 1995, v.EngineCC)
	assert.Equal(t, "2025-10-30T15:32:35+09:00", v.ListedAt.Format(time.RFC3339))
	assert.Len(t, v.Photos, 20, "each photo once, duplicates dropped")
	assert.Equal(t, PhotoBase+"/carpicture03/pic4083/40837591_001.jpg", v.PhotoURL)
}

// TestRealCapturesDetached: nothing read from a real answer points into its
// body, which is reused once parsed.
func TestRealCapturesDetached(t *testing.T) {
	for _, name := range []string{"search-list-compact.json", "search-list-duplication.json", "search-list-mobile-200.json"} {
		golden.CheckDetached(t, golden.Capture(t, "encar/"+name), func(b []byte) (any, error) { return ExtractList(b, 0, 500) })
	}
	golden.CheckDetached(t, golden.Capture(t, "encar/readside-vehicle-40849700.json"), func(b []byte) (any, error) { return ExtractDetail(b) })
}

// TestListedAt: the hand reader of ModifiedDate against what was read by
// hand, and time.Parse on every edge it declines.
func TestListedAt(t *testing.T) {
	kst := func(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ms*1e6, vehicle.KST)
	}
	for _, tc := range []struct {
		in   string
		want time.Time // zero: not a time
	}{
		{"2025-06-15 10:00:00.000 +09", kst(2025, 6, 15, 10, 0, 0, 0)},
		{"2024-02-29 23:59:59.999 +09", kst(2024, 2, 29, 23, 59, 59, 999)},
		{"2000-02-29 00:00:00.000 +09", kst(2000, 2, 29, 0, 0, 0, 0)},
		{"2025-06-15 01:00:00.000 +00", kst(2025, 6, 15, 10, 0, 0, 0)}, // another offset, through time.Parse
		{"2025-02-29 10:00:00.000 +09", time.Time{}},                   // not a leap year
		{"1900-02-29 10:00:00.000 +09", time.Time{}},
		{"2025-04-31 10:00:00.000 +09", time.Time{}},
		{"2025-13-01 10:00:00.000 +09", time.Time{}},
		{"2025-00-01 10:00:00.000 +09", time.Time{}},
		{"2025-06-00 10:00:00.000 +09", time.Time{}},
		{"2025-06-15 24:00:00.000 +09", time.Time{}},
		{"2025-06-15 10:60:00.000 +09", time.Time{}},
		{"2025-06-15 10:00:60.000 +09", time.Time{}},
		{"2025-06-15 10:00:00.00 +09", time.Time{}},
		{"2025-06-15T10:00:00.000 +09", time.Time{}},
		{"2025-06-1a 10:00:00.000 +09", time.Time{}},
		{"", time.Time{}},
	} {
		got, ok := listedAt([]byte(tc.in))
		require.Equal(t, !tc.want.IsZero(), ok, "%q", tc.in)
		if _, fast := kstModified([]byte(tc.in)); ok && strings.HasSuffix(tc.in, " +09") {
			assert.True(t, fast, "%q: Encar's own form, read without time.Parse", tc.in)
		}
		assert.True(t, tc.want.Equal(got), "%q: %v, want %v", tc.in, got, tc.want)
		if ok {
			assert.Equal(t, vehicle.KST, got.Location(), "%q", tc.in)
		}
	}
}

// FuzzListedAt: whatever the text, the hand reader and time.Parse agree.
func FuzzListedAt(f *testing.F) {
	f.Add("2025-06-15 10:00:00.000 +09")
	f.Add("2024-02-29 23:59:59.999 +09")
	f.Add("2025-02-29 10:00:00.000 +09")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := listedAt([]byte(s))
		want, err := time.Parse(modifiedLayout, s)
		if ok != (err == nil) || ok && !got.Equal(want) {
			t.Fatalf("%q: %v %v; time.Parse: %v %v", s, got, ok, want, err)
		}
	})
}
