package kcar

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// mutation is a realistic change to the real answer: the extractor must
// report it as drift or still read the answer right; a wrong value is the
// one outcome that fails.
type mutation struct {
	name    string
	old     string // the first occurrence is replaced by new; a "re:" prefix makes it a regexp, all occurrences
	new     string
	drift   bool
	correct func(*testing.T, *List)
}

func (m mutation) apply(t *testing.T, page string) string {
	if re, ok := strings.CutPrefix(m.old, "re:"); ok {
		r := regexp.MustCompile(re)
		require.True(t, r.MatchString(page), "the mutation must apply: %s", re)
		return r.ReplaceAllString(page, m.new)
	}
	require.Contains(t, page, m.old, "the mutation must apply")
	return strings.Replace(page, m.old, m.new, 1)
}

// row1 checks the first row of the capture: exhibit 2001, 랜드로버 디스커버리
// 스포츠 2.0 TD4 HSE 럭셔리, 2016, 136,135 km, 디젤 (002), 오토 (001), 기타
// (999), A2, no start price, plate 35수0329; read off the answer by hand.
func row1(want func(*testing.T, vehicle.Vehicle)) func(*testing.T, *List) {
	return func(t *testing.T, l *List) {
		require.NotEmpty(t, l.Lots)
		require.Equal(t, "kcar_ac20260409_2001", l.Lots[0].Vehicle.ID)
		want(t, l.Lots[0].Vehicle)
	}
}

// row23 checks exhibit 2023, the first with a start price: 9,500,000 won.
func row23(want func(*testing.T, vehicle.Vehicle)) func(*testing.T, *List) {
	return func(t *testing.T, l *List) {
		require.Len(t, l.Lots, 100)
		require.Equal(t, "kcar_ac20260409_2023", l.Lots[22].Vehicle.ID)
		want(t, l.Lots[22].Vehicle)
	}
}

var listMutations = []mutation{
	{name: "mileage grouped with a comma", old: `"MILG": "136135"`, new: `"MILG": "136,135"`, drift: true},
	{name: "mileage in 만 km", old: `"MILG": "136135"`, new: `"MILG": "13.6만"`, drift: true},
	{name: "mileage with its unit", old: `"MILG": "136135"`, new: `"MILG": "136135km"`, drift: true},
	{name: "mileage empty", old: `"MILG": "136135"`, new: `"MILG": ""`, drift: true},
	{name: "mileage as a JSON number", old: `"MILG": "136135"`, new: `"MILG": 136135`, drift: true},
	{name: "mileage field renamed", old: `"MILG": "136135"`, new: `"MILEAGE": "136135"`, drift: true},
	{name: "mileage implausible", old: `"MILG": "136135"`, new: `"MILG": "99999999"`, drift: true},
	{name: "mileage padded with spaces", old: `"MILG": "136135"`, new: `"MILG": " 136135 "`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 136135, v.MileageKm) })},
	{name: "start price in 만원", old: `"AUC_STRT_PRC": "9500000"`, new: `"AUC_STRT_PRC": "950"`, drift: true},
	{name: "start price grouped", old: `"AUC_STRT_PRC": "9500000"`, new: `"AUC_STRT_PRC": "9,500,000"`, drift: true},
	{name: "start price empty", old: `"AUC_STRT_PRC": "9500000"`, new: `"AUC_STRT_PRC": ""`, drift: true},
	{name: "start price withdrawn to 0", old: `"AUC_STRT_PRC": "9500000"`, new: `"AUC_STRT_PRC": "0"`,
		correct: row23(func(t *testing.T, v vehicle.Vehicle) { assert.Zero(t, v.PriceKRW, "unknown, not a price") })},
	{name: "start price field gone", old: `"AUC_STRT_PRC": "0",`, new: ``, drift: true},
	{name: "model year as 16년", old: `"FORM_YR": "2016"`, new: `"FORM_YR": "16년"`, drift: true},
	{name: "model year implausible", old: `"FORM_YR": "2016"`, new: `"FORM_YR": "1016"`, drift: true},
	{name: "first registration with dashes", old: `"FST_REG_DT": "20160818"`, new: `"FST_REG_DT": "2016-08-18"`, drift: true},
	{name: "first registration of month 13", old: `"FST_REG_DT": "20160818"`, new: `"FST_REG_DT": "20161318"`, drift: true},
	{name: "first registration unknown", old: `"FST_REG_DT": "20160818"`, new: `"FST_REG_DT": ""`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.FirstRegistration) })},
	{name: "status word never seen", old: `"AUC_STAT_NM": "출품마감"`, new: `"AUC_STAT_NM": "보류"`, drift: true},
	{name: "status word empty", old: `"AUC_STAT_NM": "출품마감"`, new: `"AUC_STAT_NM": ""`, drift: true},
	{name: "status after the auction: unsold", old: `"AUC_STAT_NM": "출품마감"`, new: `"AUC_STAT_NM": "유찰"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.AuctionNoBid, v.Auction.Status) })},
	{name: "status after the auction: sold", old: `"AUC_RESULT": "N",`, new: `"AUC_RESULT": "Y",`,
		drift: true}, // Y beside 출품마감: the flag and the word disagree
	{name: "sold with its flag", old: `re:(?s)("AUC_RESULT": )"N",(.*?"AUC_STAT_NM": )"출품마감"`, new: `${1}"Y",${2}"낙찰"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.AuctionSold, v.Auction.Status) })},
	{name: "result flag never seen", old: `"AUC_RESULT": "N",`, new: `"AUC_RESULT": "P",`, drift: true},
	{name: "status code in another form", old: `"AUC_STAT": "AC010",
      "AUC_STAT_NM"`, new: `"AUC_STAT": "10",
      "AUC_STAT_NM"`, drift: true},
	{name: "bidding window in another form", old: `"AUC_STRT_END_DATETIME": "2026-04-30 13:00~2026-04-30 18:00"`, new: `"AUC_STRT_END_DATETIME": "2026.04.30 13:00~18:00"`, drift: true},
	{name: "bidding window closing before it opens", old: `"AUC_STRT_END_DATETIME": "2026-04-30 13:00~2026-04-30 18:00"`, new: `"AUC_STRT_END_DATETIME": "2026-04-30 13:00~2026-04-30 12:00"`, drift: true},
	{name: "bidding window on another day", old: `"AUC_STRT_END_DATETIME": "2026-04-30 13:00~2026-04-30 18:00"`, new: `"AUC_STRT_END_DATETIME": "2026-05-07 13:00~2026-05-07 18:00"`, drift: true},
	{name: "bidding window spaced", old: `"AUC_STRT_END_DATETIME": "2026-04-30 13:00~2026-04-30 18:00"`, new: `"AUC_STRT_END_DATETIME": "2026-04-30 14:00 ~ 2026-04-30 18:00"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, "2026-04-30T14:00:00+09:00", v.Auction.Date.Format("2006-01-02T15:04:05-07:00"))
		})},
	{name: "auction date in ISO form", old: `"AUC_STRT_DT": "20260430"`, new: `"AUC_STRT_DT": "2026-04-30"`, drift: true},
	{name: "auction code without its letters", old: `"AUC_CD": "AC20260409"`, new: `"AUC_CD": "20260409"`, drift: true},
	{name: "exhibit number with a letter", old: `"EXBIT_SEQ": "2001"`, new: `"EXBIT_SEQ": "B2001"`, drift: true},
	{name: "exhibit number twice", old: `"EXBIT_SEQ": "2002"`, new: `"EXBIT_SEQ": "2001"`, drift: true},
	{name: "car id gone", old: `"CAR_ID": "CA20373705"`, new: `"CAR_ID": ""`, drift: true},
	{name: "grade number out of range", old: `"CAR_POINT": "2"`, new: `"CAR_POINT": "9"`, drift: true},
	{name: "grade letter with a sign", old: `"CAR_POINT2": "A"`, new: `"CAR_POINT2": "A+"`, drift: true},
	{name: "grade number gone, letter left", old: `"CAR_POINT": "2"`, new: `"CAR_POINT": ""`, drift: true},
	{name: "grade letter D", old: `"CAR_POINT2": "A"`, new: `"CAR_POINT2": "D"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [2]string{"D", "D"}, [2]string{v.AccidentGrade, v.ExteriorGrade})
		})},
	{name: "not graded", old: `re:(?s)"CAR_POINT": "2",(\s*)"CAR_POINT2": "A"`, new: `"CAR_POINT": "",${1}"CAR_POINT2": ""`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [2]string{"", ""}, [2]string{v.AccidentGrade, v.ExteriorGrade})
		})},
	{name: "fuel in Glovis' word", old: `"FUEL_TYPE_NM": "디젤"`, new: `"FUEL_TYPE_NM": "경유"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.FuelDiesel, v.Fuel) })},
	{name: "fuel word the dictionary lacks", old: `"FUEL_TYPE_NM": "디젤"`, new: `"FUEL_TYPE_NM": "클린디젤"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.FuelDiesel, v.Fuel, "by its code") })},
	{name: "fuel word and code disagree", old: `"FUEL_TYPE_NM": "디젤"`, new: `"FUEL_TYPE_NM": "가솔린"`, drift: true},
	{name: "fuel code and word unknown", old: `re:(?s)"FUEL_CD": "002",(.*?)"FUEL_TYPE_NM": "디젤"`, new: `"FUEL_CD": "077",${1}"FUEL_TYPE_NM": "암모니아"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.Fuel, "unknown, counted as a miss") })},
	{name: "gearbox as M/A letters", old: `"GBOX_DCD": "001"`, new: `"GBOX_DCD": "A"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, vehicle.TransmissionAuto, v.Transmission, "by its word")
		})},
	{name: "gearbox word and code disagree", old: `"TRANS_MISSION_NM": "오토"`, new: `"TRANS_MISSION_NM": "수동"`, drift: true},
	{name: "colour named", old: `re:(?s)"COLOR_CD": "999",(.*?)"EXTERIOR_COLOR_NM": "기타"`, new: `"COLOR_CD": "005",${1}"EXTERIOR_COLOR_NM": "파란색"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, "blue", v.Color) })},
	{name: "site never seen", old: `"AUC_PLC_NM": "오산경매장"`, new: `"AUC_PLC_NM": "부산경매장"`, drift: true},
	{name: "site code and name disagree", old: `"AUC_PLC_NM": "오산경매장"`, new: `"AUC_PLC_NM": "세종경매장"`, drift: true},
	{name: "make the dictionary lacks", old: `"MNUFTR_NM": "랜드로버"`, new: `"MNUFTR_NM": "부가티"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [2]string{"부가티", "디스커버리 스포츠"}, [2]string{v.Make, v.Model}, "raw text kept, counted as a miss")
		})},
	{name: "no sub-grade said in words", old: `"GRD_SCSF_NM": "",`, new: `"GRD_SCSF_NM": "세부등급 없음",`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, "2.0 TD4 HSE 럭셔리", v.Trim) })},
	{name: "a row of another lane", old: `"LANE_TYPE": "",`, new: `"LANE_TYPE": "C",`, drift: true},
	{name: "a row of this lane", old: `"LANE_TYPE": "",`, new: `"LANE_TYPE": "B",`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, "kcar_ac20260409_2001", v.ID) })},
	{name: "rows renamed", old: `"CAR_LIST": [`, new: `"carList": [`, drift: true},
	{name: "echo renamed", old: `"auctionReqVo": {`, new: `"reqVo": {`, drift: true},
	{name: "rows an object", old: `re:(?s)"CAR_LIST": \[(.*)\]\s*}\s*$`, new: `"CAR_LIST": {"rows": [${1}]}}`, drift: true},
	{name: "echo of another page type kept", old: `"PAGE_TYPE": "wCfm"`, new: `"PAGE_TYPE": "wRst"`,
		correct: func(t *testing.T, l *List) {
			assert.Equal(t, "wRst", l.Echo.PageType, "the client compares it with its request")
		}},
	{name: "echo paging field a string", old: `"PAGE_CNT": 100`, new: `"PAGE_CNT": "100"`, drift: true},
	{name: "thumbnail gone", old: `"THUMBNAIL": "2037/CA20373705/CA20373705174703ky_370.JPG"`, new: `"THUMBNAIL": ""`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.PhotoURL, "no photo, not a wrong one") })},
	{name: "displacement filled in", old: `"ENGDISPMNT": ""`, new: `"ENGDISPMNT": "1,999cc"`,
		correct: row1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 1999, v.EngineCC) })},
	{name: "displacement in litres", old: `"ENGDISPMNT": ""`, new: `"ENGDISPMNT": "2.0L"`, drift: true},
}

func TestMutations(t *testing.T) {
	base, err := os.ReadFile(capture)
	require.NoError(t, err)
	drift, correct := 0, 0
	for _, m := range listMutations {
		t.Run(m.name, func(t *testing.T) {
			got, err := ExtractList([]byte(m.apply(t, string(base))), "B")
			if m.drift {
				require.ErrorIs(t, err, sources.ErrDrift)
				drift++
				return
			}
			require.NoError(t, err)
			m.correct(t, got)
			if !t.Failed() {
				correct++
			}
		})
	}
	t.Logf("kcar list: %d mutations, %d reported as drift, %d read correctly", len(listMutations), drift, correct)
	assert.Equal(t, len(listMutations), drift+correct)
}

// TestRefusals: what the site answers instead of data is never an empty
// auction.
func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		body string
		want error
	}{
		{`<html><script>location.href='/kcar/user/user_login.do';</script></html>`, sources.ErrLogin},
		{`<!DOCTYPE html><html><body>Request blocked. Support ID: 1234</body></html>`, sources.ErrBlocked},
		{``, sources.ErrDrift},
		{`{"auctionReqVo": {"AUC_TYPE": "weekly"}}`, sources.ErrDrift},
		{`{"CAR_LIST": []}`, sources.ErrDrift},
		{`OK`, sources.ErrDrift},
	} {
		_, err := ExtractList([]byte(c.body), "B")
		assert.ErrorIs(t, err, c.want, c.body)
	}
	base, err := os.ReadFile(capture)
	require.NoError(t, err)
	_, err = ExtractList(base, "A")
	assert.ErrorIs(t, err, sources.ErrDrift, "lane B's answer to a lane A request")
}
