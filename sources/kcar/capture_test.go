package kcar

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/vehicle"
)

const capture = testdata + "/list-weekly-laneB-2026-04.json"

// English names of the capture's makes and models, written by hand (not
// read from the dictionary the extractor uses).
var (
	wantMakes = map[string]string{
		"KGM": "KG Mobility", "기아": "Kia", "랜드로버": "Land Rover", "르노코리아(삼성)": "Renault Korea", "미니": "Mini",
		"벤츠": "Mercedes-Benz", "쉐보레(GM대우)": "Chevrolet", "아우디": "Audi", "제네시스": "Genesis", "폭스바겐": "Volkswagen",
		"현대": "Hyundai", "혼다": "Honda",
	}
	wantModels = map[string]string{
		"G4 렉스턴": "Rexton", "뉴코란도 C": "Korando", "더 뉴 렉스턴 스포츠": "Rexton Sports", "베리 뉴 티볼리": "Tivoli",
		"K3": "K3", "K5 3세대": "K5", "K8": "K8", "더 뉴 K3 2세대": "K3", "더 뉴 K9 2세대": "K9", "더 뉴 레이": "Ray",
		"디 올 뉴 스포티지": "Sportage", "모하비 더 마스터": "Mohave", "봉고III 트럭 LPi 카고": "Bongo", "셀토스": "Seltos",
		"스포티지 R": "Sportage", "스포티지 더 볼드": "Sportage", "쏘렌토 4세대 하이브리드": "Sorento", "올 뉴 K3": "K3",
		"올 뉴 모닝 (JA)": "Morning", "카니발 (4세대)": "Carnival", "디스커버리 스포츠": "Discovery Sport", "뉴 QM6": "QM6",
		"뉴 마스터": "Master", "더 뉴 SM6": "SM6", "쿠퍼 (3세대 F/L) 5도어": "Cooper", "E-클래스 W212": "E-Class",
		"E-클래스 W213": "E-Class", "GLC-클래스 X253": "GLC", "더 뉴 트래버스": "Traverse", "트레일블레이저": "Trailblazer",
		"A5 (F5)": "A5", "Q5": "Q5", "뉴 A6 (C7)": "A6", "G80": "G80", "G80 (RG3)": "G80", "G80 (RG3) 일렉트리파이드": "G80",
		"GV70": "GV70", "GV80": "GV80", "뉴 CC": "CC", "티구안 2세대": "Tiguan", "그랜드 스타렉스": "Grand Starex",
		"그랜저 (GN7)": "Grandeur", "그랜저 HG": "Grandeur", "더 뉴 그랜저": "Grandeur", "더 뉴 그랜저 하이브리드": "Grandeur",
		"더 뉴 아반떼": "Avante", "더 뉴 아반떼 하이브리드 (CN7)": "Avante", "싼타페 DM": "Santa Fe", "싼타페 TM": "Santa Fe",
		"쏘나타 DN8": "Sonata", "아반떼 (CN7)": "Avante", "아반떼 AD": "Avante", "아반떼 HD": "Avante", "아반떼 MD": "Avante",
		"투싼 (4세대)": "Tucson", "팰리세이드": "Palisade", "포터2 CRDi 카고": "Porter", "CR-V 5세대": "CR-V", "올뉴어코드": "Accord",
	}
	wantFuels  = map[string]string{"가솔린": "gasoline", "디젤": "diesel", "가솔린+전기": "hybrid", "LPG": "lpg", "전기": "electric"}
	wantGears  = map[string]string{"오토": "auto", "수동": "manual"}
	wantColors = map[string]string{"기타": "", "검정색": "black", "진주색": "white", "흰색": "white", "은색": "silver"}
	// Exterior grade by score number, 8 best (README, "K Car").
	wantExterior = map[string]string{"8": "A", "7": "A", "6": "B", "5": "B", "4": "C", "3": "C", "2": "D", "1": "F"}
)

// TestCaptureAgainstRaw reads the real answer with encoding/json into
// plain maps and checks every field of every one of the 100 rows against
// values computed here from the raw strings, with the tables above.
func TestCaptureAgainstRaw(t *testing.T) {
	body, err := os.ReadFile(capture)
	require.NoError(t, err)
	var raw struct {
		CarList []map[string]any `json:"CAR_LIST"`
	}
	require.NoError(t, json.Unmarshal(body, &raw))
	require.Len(t, raw.CarList, 100)
	l, err := ExtractList(body, "B")
	require.NoError(t, err)
	require.Len(t, l.Lots, 100)
	assert.Equal(t, Echo{AucType: "weekly", PageType: "wCfm", Lane: "B", StartRow: 1, EndRow: 100, PageSize: 100}, l.Echo)
	s := func(r map[string]any, k string) string { return strings.TrimSpace(r[k].(string)) }
	atoi := func(x string) int {
		n, err := strconv.Atoi(x)
		require.NoError(t, err, x)
		return n
	}
	start := time.Date(2026, 4, 30, 13, 0, 0, 0, time.FixedZone("", 9*3600))
	end := start.Add(5 * time.Hour)
	priced, graded, hopeStep := 0, 0, 0
	for i, r := range raw.CarList {
		got := l.Lots[i]
		v := got.Vehicle
		exbit := s(r, "EXBIT_SEQ")
		require.Equal(t, 2001+i, atoi(exbit), "rows come in exhibit order")
		assert.Equal(t, "kcar_ac20260409_"+exbit, v.ID)
		assert.True(t, IDPattern.MatchString(v.ID), v.ID)
		assert.Equal(t, vehicle.KCar, v.Source)
		assert.Equal(t, s(r, "CAR_ID"), got.CarID)
		assert.Equal(t, "AC20260409", got.AucCode)
		assert.Equal(t, "B", got.Lane)
		assert.Equal(t, "112", got.SiteCode)
		assert.True(t, got.Ends.Equal(end), got.Ends)
		assert.Equal(t, wantMakes[s(r, "MNUFTR_NM")], v.Make, exbit)
		assert.Equal(t, wantModels[s(r, "MODEL_NM")], v.Model, exbit+" "+s(r, "MODEL_NM"))
		assert.Contains(t, v.Trim, strings.Join(strings.Fields(s(r, "GRD_LCSF_NM")), " "), exbit)
		if sub := s(r, "GRD_SCSF_NM"); sub != "" && sub != "세부등급 없음" {
			assert.True(t, strings.HasSuffix(v.Trim, sub), "%s: trim %q ends with the sub-grade %q", exbit, v.Trim, sub)
		}
		assert.NotContains(t, v.Trim, "세부등급 없음")
		assert.Equal(t, atoi(s(r, "FORM_YR")), v.Year, exbit)
		assert.Equal(t, atoi(s(r, "MILG")), v.MileageKm, exbit)
		assert.Equal(t, wantFuels[s(r, "FUEL_TYPE_NM")], v.Fuel, exbit)
		assert.Equal(t, wantGears[s(r, "TRANS_MISSION_NM")], v.Transmission, exbit)
		c, ok := wantColors[s(r, "EXTERIOR_COLOR_NM")]
		require.True(t, ok, s(r, "EXTERIOR_COLOR_NM"))
		assert.Equal(t, c, v.Color, exbit)
		assert.Zero(t, v.EngineCC, "the list has no displacement")
		assert.Equal(t, []string{}, v.Options)
		reg := s(r, "FST_REG_DT")
		assert.Equal(t, reg[:4]+"-"+reg[4:6], v.FirstRegistration, exbit)
		assert.Equal(t, s(r, "CNO"), v.LicensePlate)
		assert.Empty(t, v.VIN)
		price := int64(atoi(s(r, "AUC_STRT_PRC")))
		assert.Equal(t, price, v.PriceKRW, "the start price is in won")
		if price > 0 {
			priced++
			hope := int64(atoi(s(r, "AUC_STRT_HOPE")))
			assert.GreaterOrEqual(t, hope, price, "the hoped price is not below the start price in won")
			if hope-price == 200_000 {
				hopeStep++
			}
			// Cars of 2016-2023 sell for millions of won; in 만원 these
			// would be 680..4,320.
			assert.True(t, price >= 1_000_000 && price <= 100_000_000, "%s: ₩%d", exbit, price)
		}
		assert.Equal(t, s(r, "CAR_POINT2"), v.AccidentGrade)
		assert.Equal(t, wantExterior[s(r, "CAR_POINT")], v.ExteriorGrade, exbit)
		if v.AccidentGrade != "" {
			graded++
		}
		assert.Equal(t, "https://www.kcarauction.com/auction/IMAGE_UPLOAD/CAR/"+s(r, "THUMBNAIL"), v.PhotoURL)
		created, err := time.ParseInLocation("20060102150405", s(r, "CRT_DTL_DTTM"), time.FixedZone("", 9*3600))
		require.NoError(t, err)
		assert.True(t, v.ListedAt.Equal(created), exbit)
		assert.Equal(t, &vehicle.Seller{Type: "auction", Name: "K Car", Region: "Osan"}, v.Seller)
		assert.Equal(t, "https://www.kcarauction.com/kcar/auction/weekly_detail/auction_detail_view.do?AUC_CD=AC20260409&CAR_ID="+s(r, "CAR_ID")+"&PAGE_TYPE=wCfm", v.SourceURL)
		require.NotNil(t, v.Auction)
		a := *v.Auction
		assert.True(t, a.Date.Equal(start), a.Date)
		_, off := a.Date.Zone()
		assert.Equal(t, 9*3600, off, "+09:00 kept")
		a.Date = time.Time{}
		assert.Equal(t, vehicle.Auction{Site: "Osan", LotNumber: 2001 + i, Status: vehicle.AuctionUpcoming, Count: 1}, a, exbit)
	}
	assert.Equal(t, 21, priced, "21 rows publish a start price")
	assert.Equal(t, 20, hopeStep, "20 of them hope for ₩200,000 above the start: both are in won")
	assert.Equal(t, 100, graded)
}
