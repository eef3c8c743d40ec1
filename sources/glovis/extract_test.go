package glovis

import (
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

func TestGrades(t *testing.T) {
	for in, want := range map[string][2]string{"A/4": {"A", "B"}, "B/1": {"B", "A"}, "C/8": {"C", "F"}, "- / -": {"", ""}, "": {"", ""}} {
		a, e := grades(in)
		assert.Equal(t, want, [2]string{a, e}, in)
	}
}
