package glovis

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/internal/golden"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

func TestExtractListRealCapture(t *testing.T) {
	body := golden.Capture(t, "glovis/exhibit-list-acc20-yangsan.html")
	date := time.Date(2025, 6, 19, 13, 0, 0, 0, vehicle.KST)
	l, err := ExtractList(body, date)
	require.NoError(t, err)
	assert.Equal(t, 1184, l.Total)
	assert.Equal(t, 66, l.LastPage, "last page comes from paging-last, not the five drawn buttons")
	require.Len(t, l.Lots, 18)
	lot := l.Lots[0]
	v := lot.Vehicle
	assert.Equal(t, "glovis_20250619_3100_1001", v.ID)
	assert.Equal(t, "Genesis", v.Make)
	assert.Equal(t, "G80", v.Model)
	assert.Equal(t, "가솔린 2.5 AWD 기본형", v.Trim)
	assert.Equal(t, 2024, v.Year)
	assert.Equal(t, 31687, v.MileageKm)
	assert.Equal(t, int64(42_100_000), v.PriceKRW)
	assert.Equal(t, "A", v.AccidentGrade)
	assert.Equal(t, "B", v.ExteriorGrade) // exterior 4 of 8
	assert.Equal(t, 2497, v.EngineCC)
	assert.Equal(t, vehicle.FuelGasoline, v.Fuel)
	assert.Equal(t, vehicle.TransmissionAuto, v.Transmission)
	assert.Equal(t, "gray", v.Color)
	assert.Equal(t, "AWD", v.Drivetrain)
	assert.Equal(t, "226누9231", v.LicensePlate)
	assert.Equal(t, "C250601273", lot.GoodsNo)
	require.NotNil(t, v.Auction)
	assert.Equal(t, vehicle.Auction{Date: date, Site: "Yangsan", LotNumber: 1001, Round: 945, Status: vehicle.AuctionUpcoming, Count: 1}, *v.Auction)
	for _, l := range l.Lots {
		assert.NotEmpty(t, l.Vehicle.Make, l.Vehicle.ID)
		assert.NotZero(t, l.Vehicle.PriceKRW, l.Vehicle.ID)
	}
	assert.Equal(t, "Renault Korea", l.Lots[13].Vehicle.Make, "[르노(삼성)]")
}

func TestExtractListFailures(t *testing.T) {
	_, err := ExtractList([]byte(`<script>location.href='/login.do';</script>`), time.Time{})
	assert.ErrorIs(t, err, sources.ErrLogin)
	_, err = ExtractList([]byte(`<html><body><div id="other"></div></body></html>`), time.Time{})
	assert.ErrorIs(t, err, sources.ErrDrift)
	l, err := ExtractList([]byte(`<div id="div_total"><span class="total"> 총<span> 0</span>대</span></div><div id="div_list"></div>`), time.Time{})
	require.NoError(t, err, "an empty round is a success")
	assert.Empty(t, l.Lots)
}

func TestExteriorGrade(t *testing.T) {
	for in, want := range map[string]string{"1": "A", "2": "A", "3": "B", "4": "B", "5": "C", "6": "C", "7": "D", "8": "F"} {
		assert.Equal(t, want, exteriorGrade(in), in)
	}
}

// TestRealCaptures runs every Glovis extractor over every real capture,
// with expectations read off the pages by hand.
func TestRealCaptures(t *testing.T) {
	d, err := ExtractDetail(golden.Capture(t, "glovis/exhibit-detail-k8-2025-06-16.html"))
	require.NoError(t, err)
	assert.Equal(t, Detail{
		Make: "Kia", Model: "K8", Trim: "2.5 GDI 노블레스", VIN: "KNAM241BBNA002211", LicensePlate: "339머6489",
		FirstRegistration: "2021-04", Year: 2022, MileageKm: 101000, EngineCC: 2497, Fuel: vehicle.FuelGasoline,
		Transmission: vehicle.TransmissionAuto, Color: "black", Status: vehicle.AuctionUpcoming, PriceKRW: 17_700_000,
		Options: []string{"leather_seats", "navigation", "smart_key", "around_view_monitor", "electronic_parking_brake",
			"lane_departure_warning", "cruise_control", "ventilated_seats"},
	}, d)

	d, err = ExtractDetail(golden.Capture(t, "glovis/exhibit-detail-fragments.html"))
	require.NoError(t, err)
	assert.Equal(t, [3]string{"Genesis", "G80", "KMTGB41CDRU201908"}, [3]string{d.Make, d.Model, d.VIN})
	assert.Equal(t, 31687, d.MileageKm)
	assert.Equal(t, int64(42_100_000), d.PriceKRW)

	rounds, err := ExtractRounds(golden.Capture(t, "glovis/exhibit-list-shell-timed-rounds.html"))
	require.NoError(t, err)
	at := func(day, hour int) time.Time { return time.Date(2025, 6, day, hour, 0, 0, 0, vehicle.KST) }
	assert.Equal(t, []Round{{747, at(14, 9)}, {748, at(17, 20)}, {749, at(21, 9)}}, rounds, "each timed round starts at its own time")

	for _, name := range []string{"glovis/login-redirect.html"} {
		body := golden.Capture(t, name)
		_, err := ExtractList(body, time.Time{})
		assert.ErrorIs(t, err, sources.ErrLogin, name)
		_, err = ExtractDetail(body)
		assert.ErrorIs(t, err, sources.ErrLogin, name)
	}
}

// TestPagerBounds: the pager's last page sizes the crawl's work, so a
// number that does not fit the total is drift, never a loop or a huge
// allocation.
func TestPagerBounds(t *testing.T) {
	page := func(total, last string) []byte {
		return []byte(`<div id="div_total"><span class="total"> 총<span> ` + total + `</span>대</span></div><div id="div_list"></div>` +
			`<div id="exhibit_list_paging"><button onclick="fnPaging(` + last + `)" class="paging-last"></button></div>`)
	}
	for _, tc := range []struct{ total, last string }{{"18", "0"}, {"18", "999999"}, {"1,184", "1185"}, {"0", "2"}, {"18", "99999999999999999999"},
		{"999,999,999", "999999999"}} {
		_, err := ExtractList(page(tc.total, tc.last), time.Time{})
		assert.ErrorIs(t, err, sources.ErrDrift, "total %s, last page %s", tc.total, tc.last)
	}
	l, err := ExtractList(page("0", "1"), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 1, l.LastPage)
}

// TestRealListEveryLot: every lot of the real list capture, make, model,
// fuel, colour and displacement as the page shows them (titles and the
// option spans read by hand).
func TestRealListEveryLot(t *testing.T) {
	l, err := ExtractList(golden.Capture(t, "glovis/exhibit-list-acc20-yangsan.html"), time.Date(2025, 6, 19, 13, 0, 0, 0, vehicle.KST))
	require.NoError(t, err)
	want := [][5]string{
		{"Genesis", "G80", "gasoline", "gray", "2497"},
		{"Hyundai", "Sonata", "lpg", "white", "1999"},
		{"Hyundai", "Grandeur", "gasoline", "black", "2999"},
		{"Hyundai", "Sonata", "gasoline", "black", "1998"},
		{"Hyundai", "Sonata", "lpg", "white", "1999"},
		{"Kia", "K3", "gasoline", "black", "1591"},
		{"Genesis", "G80", "gasoline", "gray", "2497"},
		{"Hyundai", "Grandeur", "lpg", "black", "2999"},
		{"Hyundai", "Ioniq 6", "electric", "white", "0"}, // "111cc" on an electric car is not a displacement
		{"Hyundai", "Sonata", "lpg", "white", "1999"},
		{"Hyundai", "Grandeur", "hybrid", "black", "1598"},
		{"Hyundai", "Sonata", "lpg", "white", "1999"},
		{"Hyundai", "Grandeur", "hybrid", "gray", "1598"},
		{"Renault Korea", "SM6", "gasoline", "gray", "1618"},
		{"Kia", "K7", "gasoline", "gray", "2359"},
		{"Kia", "K9", "gasoline", "black", "3778"},
		{"Kia", "K5", "gasoline", "white", "1999"},
		{"Kia", "K7", "gasoline", "black", "2656"},
	}
	require.Len(t, l.Lots, len(want))
	for i, lot := range l.Lots {
		v := lot.Vehicle
		assert.Equal(t, want[i], [5]string{v.Make, v.Model, v.Fuel, v.Color, strconv.Itoa(v.EngineCC)}, v.ID)
		assert.Equal(t, vehicle.AuctionUpcoming, v.Auction.Status, "a page from before the auction")
		assert.True(t, strings.HasPrefix(v.SourceURL, "https://auction.autobell.co.kr/auction/exhibitView.do?"), v.SourceURL)
	}
}

// TestOptionalFieldMissingIsCounted: an optional field empty on every lot
// of a page of 10 or more is counted per source and field.
func TestOptionalFieldMissingIsCounted(t *testing.T) {
	body := golden.Capture(t, "glovis/exhibit-list-acc20-yangsan.html")
	key := [2]string{"glovis", "color"}
	before := sources.MissingCounts()[key]
	_, err := ExtractList(body, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, before, sources.MissingCounts()[key], "the real page has colours")

	noColour := regexp.MustCompile(`<span> (검정|흰색|회색) </span>`).ReplaceAll(body, []byte("<span> - </span>"))
	_, err = ExtractList(noColour, time.Time{})
	require.NoError(t, err, "an optional field gone is not drift")
	assert.Equal(t, before+1, sources.MissingCounts()[key])
}

// TestRealCapturesDetached: nothing read from a real page points into its
// body, which is reused once parsed.
func TestRealCapturesDetached(t *testing.T) {
	date := time.Date(2025, 6, 20, 13, 0, 0, 0, vehicle.KST)
	for _, name := range []string{"exhibit-list-acc20-yangsan.html", "login-redirect.html"} {
		golden.CheckDetached(t, golden.Capture(t, "glovis/"+name), func(b []byte) (any, error) { return ExtractList(b, date) })
	}
	for _, name := range []string{"exhibit-detail-fragments.html", "exhibit-detail-k8-2025-06-16.html"} {
		golden.CheckDetached(t, golden.Capture(t, "glovis/"+name), func(b []byte) (any, error) { return ExtractDetail(b) })
	}
	golden.CheckDetached(t, golden.Capture(t, "glovis/exhibit-list-shell-timed-rounds.html"), func(b []byte) (any, error) { return ExtractRounds(b) })
}
