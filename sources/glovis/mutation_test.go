package glovis

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// mutation is a realistic change to a page: the extractor must report it
// as drift or still read the page right; a wrong value is the one outcome
// that fails.
type mutation struct {
	name    string
	old     string // the first occurrence is replaced by new; a "re:" prefix makes it a regexp, all occurrences
	new     string
	drift   bool
	correct func(*testing.T, any) // the List, or the Detail
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

// lot1 checks the first lot of list-live.html: [제네시스] 더 올뉴G80 …,
// 2024, A/T, 2,497cc, 31,687 km, 회색, 휘발유, A/4, 시작가 4,210 만원, plate
// 226누9231; read off the page by hand.
func lot1(want func(*testing.T, vehicle.Vehicle)) func(*testing.T, any) {
	return func(t *testing.T, got any) {
		l := got.(*List)
		require.NotEmpty(t, l.Lots)
		require.Equal(t, "glovis_20250620_3100_1001", l.Lots[0].Vehicle.ID)
		want(t, l.Lots[0].Vehicle)
	}
}

func detail(want func(*testing.T, Detail)) func(*testing.T, any) {
	return func(t *testing.T, got any) { want(t, got.(Detail)) }
}

var listMutations = []mutation{
	{name: "mileage with a dot for grouping", old: "<span> 31,687 km </span>", new: "<span> 31.687 km </span>", drift: true},
	{name: "mileage without its unit", old: "<span> 31,687 km </span>", new: "<span> 31,687 </span>", drift: true},
	{name: "mileage in 만 units", old: "<span> 31,687 km </span>", new: "<span> 3.1만 km </span>", drift: true},
	{name: "mileage column gone", old: "<span> 31,687 km </span>", new: "", drift: true},
	{name: "mileage unit upper-case", old: "<span> 31,687 km </span>", new: "<span> 31,687 KM </span>",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, 31687, v.MileageKm) })},
	{name: "displacement with a dot", old: "<span>2,497cc</span>", new: "<span>2.497cc</span>", drift: true},
	{name: "displacement column gone", old: "<span>2,497cc</span>", new: "",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [2]int{0, 31687}, [2]int{v.EngineCC, v.MileageKm})
		})},
	{name: "displacement and mileage swapped", old: "<span>2,497cc</span>\n                        <span> 31,687 km </span>", new: "<span> 31,687 km </span>\n                        <span>2,497cc</span>",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [2]int{2497, 31687}, [2]int{v.EngineCC, v.MileageKm})
		})},
	{name: "columns reversed", old: `re:(?s)<div class="option">\s*<span>2024</span>.*?<span>A/4</span>`, new: `<div class="option"><span>A/4</span><span>법인상품용</span><span>휘발유</span><span> 회색 </span><span> 31,687 km </span><span>2,497cc</span><span class="">A/T</span><span>2024</span>`,
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [4]int{2024, 31687, 2497, 0}, [4]int{v.Year, v.MileageKm, v.EngineCC})
			assert.Equal(t, [5]string{"gasoline", "auto", "gray", "A", "B"}, [5]string{v.Fuel, v.Transmission, v.Color, v.AccidentGrade, v.ExteriorGrade})
		})},
	{name: "model year as 24년", old: "<span>2024</span>", new: "<span>24년</span>", drift: true},
	{name: "model year implausible", old: "<span>2024</span>", new: "<span>1024</span>", drift: true},
	{name: "grade without its slash", old: "<span>A/4</span>", new: "<span>A4</span>", drift: true},
	{name: "grade with spaces", old: "<span>A/4</span>", new: "<span>A / 4</span>",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [2]string{"A", "B"}, [2]string{v.AccidentGrade, v.ExteriorGrade})
		})},
	{name: "grade out of range", old: "<span>A/4</span>", new: "<span>A/9</span>", drift: true},
	{name: "colour word Glovis abbreviates", old: "<span> 회색 </span>", new: "<span> 파랑 </span>",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, "blue", v.Color) })},
	{name: "colour word the dictionary lacks", old: "<span> 회색 </span>", new: "<span> 무지개 </span>",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.Color, "unknown, counted as a miss") })},
	{name: "fuel in Encar's word", old: "<span>휘발유</span>", new: "<span>가솔린</span>",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.FuelGasoline, v.Fuel) })},
	{name: "transmission in Korean", old: `<span class="">A/T</span>`, new: `<span class="">오토</span>`,
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.TransmissionAuto, v.Transmission) })},
	{name: "price in won, not 만원", old: "4,210\n", new: "42,100,000\n", drift: true},
	{name: "price with a dot", old: "4,210\n", new: "4.210\n", drift: true},
	{name: "price label renamed", old: "<span>시작가</span>", new: "<span>경매시작가</span>", drift: true},
	{name: "reserve shown before the start price", old: `<div class="price-box">`, new: `<div class="price-box"><div class="inner"><span>희망가</span><div class="price"><span class="num">5,000</span><span>만원</span></div></div>`,
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, int64(42_100_000), v.PriceKRW) })},
	{name: "title without brackets", old: "[제네시스] 더 올뉴G80", new: "제네시스 더 올뉴G80", drift: true},
	{name: "a Lotze, a model older titles carry", old: "[제네시스] 더 올뉴G80 가솔린 2.5 AWD 기본형", new: "[기아] 로체 어드밴스 LX18 기본형",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [3]string{"Kia", "Lotze", "어드밴스 LX18 기본형"}, [3]string{v.Make, v.Model, v.Trim})
		})},
	{name: "title of a make the dictionary lacks", old: "[제네시스] 더 올뉴G80", new: "[부가티] 시론",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, "부가티", v.Make, "raw text kept, counted as a miss")
		})},
	{name: "Chevrolet as Glovis writes it", old: "[제네시스] 더 올뉴G80 가솔린 2.5 AWD 기본형", new: "[쉐보레(대우)] 임팔라 3.6 LTZ",
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) {
			assert.Equal(t, [3]string{"Chevrolet", "Impala", "3.6 LTZ"}, [3]string{v.Make, v.Model, v.Trim})
		})},
	{name: "list emptied while the total says 4", old: `re:(?s)<div id="div_list">.*<div id="exhibit_list_paging">`, new: `<div id="div_list"></div><div id="exhibit_list_paging">`, drift: true},
	{name: "item class renamed", old: `re:class="item( successfully)?"`, new: `class="car-item"`, drift: true},
	{name: "total gone", old: `<span class="total"> 총<span> 4</span>대</span>`, new: ``, drift: true},
	{name: "total with a dot", old: `<span> 4</span>대`, new: `<span> 4.0</span>대`, drift: true},
	{name: "round attribute renamed", old: `atn="945"`, new: `auctno="945"`, drift: true},
	{name: "site code unknown", old: `rc="3100"`, new: `rc="9100"`, drift: true},
	{name: "lot number with a letter", old: "<span>1001</span>", new: "<span>A1001</span>", drift: true},
	{name: "a result in the state tag", old: `<span class="tag-badge small type02">양산</span>`, new: `<span class="tag-badge small type02">양산</span><span class="state-tag type02">유찰</span>`,
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.AuctionNoBid, v.Auction.Status) })},
	{name: "a result in the state flag only", old: `<div class="flag-box"></div>`, new: `<div class="flag-box"><span class="state-flag type01"><span>낙찰(부)</span></span></div>`,
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.AuctionSold, v.Auction.Status) })},
	{name: "a state word never seen", old: `<span class="tag-badge small type02">양산</span>`, new: `<span class="tag-badge small type02">양산</span><span class="state-tag type02">보류</span>`, drift: true},
	{name: "sold shown by class only", old: `<div class="item">`, new: `<div class="item successfully">`,
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Equal(t, vehicle.AuctionSold, v.Auction.Status) })},
	{name: "pager's last page absurd", old: `onclick="fnPaging(1)"
                    class="paging-last"`, new: `onclick="fnPaging(999999)"
                    class="paging-last"`, drift: true},
	{name: "pager's last page zero", old: `onclick="fnPaging(1)"
                    class="paging-last"`, new: `onclick="fnPaging(0)"
                    class="paging-last"`, drift: true},
	{name: "plate badge gone", old: `<span class="tag-badge small type04">226누9231</span>`, new: ``,
		correct: lot1(func(t *testing.T, v vehicle.Vehicle) { assert.Empty(t, v.LicensePlate) })},
	{name: "thumbnail gone", old: `re:(?s)<div class="thumbnail">.*?</div>`, new: ``,
		correct: func(t *testing.T, got any) {
			assert.Empty(t, got.(*List).Lots[0].GoodsNo, "no goods number, not a wrong one")
		}},
}

// detail-unsold.html: [제네시스] 더 올뉴G80 …, 31,687km, 4210 만원, VIN
// KMTGB41CDRU000001, plate 11가1111, 2024형, 2023년 06월, 미경매.
var detailMutations = []mutation{
	{name: "mileage label renamed", old: "<dt>주행거리</dt>", new: "<dt>주행km</dt>", drift: true},
	{name: "mileage label spaced", old: "<dt>주행거리</dt>", new: "<dt>주행 거리</dt>",
		correct: detail(func(t *testing.T, d Detail) { assert.Equal(t, 31687, d.MileageKm) })},
	{name: "mileage with a dot", old: "<dd>31,687km</dd>", new: "<dd>31.687km</dd>", drift: true},
	{name: "mileage without its unit", old: "<dd>31,687km</dd>", new: "<dd>31,687</dd>", drift: true},
	{name: "mileage NaN", old: "<dd>31,687km</dd>", new: "<dd>NaNkm</dd>", drift: true},
	{name: "price in won", old: `value="4210.0"`, new: `value="42100000.0"`, drift: true},
	{name: "price NaN", old: `value="4210.0"`, new: `value="NaN"`, drift: true},
	{name: "price negative", old: `value="4210.0"`, new: `value="-4210.0"`, drift: true},
	{name: "price field renamed", old: `id="stprice"`, new: `id="startprice"`, drift: true},
	{name: "title gone", old: `<h2 class="car-name">`, new: `<h2 class="car-title">`, drift: true},
	{name: "title without brackets", old: "[제네시스] 더 올뉴G80", new: "제네시스 더 올뉴G80", drift: true},
	{name: "VIN and plate gone", old: `re:id="h_c(has|ar)no"`, new: `id="x"`, drift: true},
	{name: "VIN element renamed, plate left", old: `id="h_chasno"`, new: `id="h_vin"`, drift: true},
	{name: "plate element renamed, VIN left", old: `id="h_carno"`, new: `id="h_plate"`, drift: true},
	{name: "VIN blank, plate left", old: `re:(id="h_chasno"[^>]*>)[^<]+`, new: `$1`,
		correct: detail(func(t *testing.T, d Detail) {
			assert.Equal(t, [2]string{"", "11가1111"}, [2]string{d.VIN, d.LicensePlate})
		})},
	{name: "status: sale cancelled", old: `<strong class="point">미경매</strong> 차량입니다`, new: `<strong class="point">낙찰취소</strong> 차량입니다`,
		correct: detail(func(t *testing.T, d Detail) { assert.Equal(t, vehicle.AuctionNoBid, d.Status) })},
	{name: "spec box renamed", old: `class="spec-box spec01"`, new: `class="spec-box-v2"`, drift: true},
	{name: "model year in 년", old: "<dd>2024형</dd>", new: "<dd>2024년</dd>", drift: true},
	{name: "displacement with a dot", old: "<dd>2497cc</dd>", new: "<dd>2.497cc</dd>", drift: true},
	{name: "displacement unknown", old: "<dd>2497cc</dd>", new: "<dd>-</dd>",
		correct: detail(func(t *testing.T, d Detail) { assert.Zero(t, d.EngineCC) })},
	{name: "first registration in ISO form", old: "<dd>2023년 06월 16일</dd>", new: "<dd>2023-06-16</dd>", drift: true},
	{name: "status word never seen", old: `<strong class="point">미경매</strong> 차량입니다`, new: `<strong class="point">보류</strong> 차량입니다`, drift: true},
	{name: "status after the auction", old: `<strong class="point">미경매</strong> 차량입니다`, new: `<strong class="point">유찰</strong> 차량입니다`,
		correct: detail(func(t *testing.T, d Detail) { assert.Equal(t, vehicle.AuctionNoBid, d.Status) })},
	{name: "colour the dictionary lacks", old: "<dd>NCM)마칼루 그레이</dd>", new: "<dd>NCM)마칼루 무지개</dd>",
		correct: detail(func(t *testing.T, d Detail) { assert.Empty(t, d.Color) })},
	{name: "fields reordered", old: "<dt>연료</dt>\n                                              <dd>휘발유</dd>", new: "<dt>인승</dt><dd>5인승</dd><dt>연료</dt><dd>휘발유</dd>",
		correct: detail(func(t *testing.T, d Detail) {
			assert.Equal(t, vehicle.FuelGasoline, d.Fuel)
			assert.Equal(t, 31687, d.MileageKm)
		})},
	{name: "options gone", old: `<div class="option">`, new: `<div class="options-v2">`,
		correct: detail(func(t *testing.T, d Detail) { assert.Empty(t, d.Options) })},
}

func TestMutations(t *testing.T) {
	date := time.Date(2025, 6, 20, 13, 0, 0, 0, vehicle.KST)
	run := func(t *testing.T, file string, table []mutation, extract func([]byte) (any, error)) (drift, correct int) {
		base, err := os.ReadFile(testdata + "/" + file)
		require.NoError(t, err)
		for _, m := range table {
			t.Run(m.name, func(t *testing.T) {
				got, err := extract([]byte(m.apply(t, string(base))))
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
		return drift, correct
	}
	ld, lc := run(t, "list-live.html", listMutations, func(b []byte) (any, error) { return ExtractList(b, date) })
	dd, dc := run(t, "detail-unsold.html", detailMutations, func(b []byte) (any, error) { return ExtractDetail(b) })
	t.Logf("glovis list: %d mutations, %d reported as drift, %d read correctly", len(listMutations), ld, lc)
	t.Logf("glovis detail: %d mutations, %d reported as drift, %d read correctly", len(detailMutations), dd, dc)
	assert.Equal(t, len(listMutations)+len(detailMutations), ld+lc+dd+dc)
}
