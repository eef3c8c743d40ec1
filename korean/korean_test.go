package korean

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/vehicle"
)

func TestMakePrefixLongestFirst(t *testing.T) {
	for title, want := range map[string][2]string{
		"KG모빌리티(쌍용) 토레스 1.5 T7": {"KG Mobility", "토레스 1.5 T7"},
		"쉐보레(GM대우) 트레일블레이저 1.3": {"Chevrolet", "트레일블레이저 1.3"},
		"르노(삼성) QM6 2.0 LPe":    {"Renault Korea", "QM6 2.0 LPe"},
		"벤츠 E클래스(5세대) E250":     {"Mercedes-Benz", "E클래스(5세대) E250"},
		"기아 카니발 KA4 2.2":        {"Kia", "카니발 KA4 2.2"},
		"메르세데스-벤츠 C클래스 C200":    {"Mercedes-Benz", "C클래스 C200"},
	} {
		mk, rest, ok := MakePrefix(title)
		if assert.True(t, ok, title) {
			assert.Equal(t, want, [2]string{mk.English, rest}, title)
		}
	}
	_, _, ok := MakePrefix("롤스로이스 컬리넌")
	assert.False(t, ok)
}

func TestSplitModel(t *testing.T) {
	kia, _ := MakeByEnglish("kia")
	hyundai, _ := MakeByEnglish("Hyundai")
	genesis, _ := MakeByEnglish("GENESIS")
	for _, tc := range []struct {
		mk                *Make
		text, model, trim string
	}{
		{kia, "카니발 KA4 2.2 디젤", "Carnival", "KA4 2.2 디젤"}, // not Audi A4
		{hyundai, "아이오닉 6 롱레인지 2WD", "Ioniq 6", "롱레인지 2WD"},
		{hyundai, "더 뉴그랜저IG LPi 3.0", "Grandeur", "LPi 3.0"},
		{hyundai, "YF쏘나타 Y20 탑", "Sonata", "Y20 탑"},
		{genesis, "더 올뉴G80 가솔린 2.5 AWD 기본형", "G80", "가솔린 2.5 AWD 기본형"},
	} {
		md, trim, ok := tc.mk.SplitModel(tc.text)
		if assert.True(t, ok, tc.text) {
			assert.Equal(t, tc.model, md.English, tc.text)
			assert.Equal(t, tc.trim, trim, tc.text)
		}
	}
}

func TestValuesAndMisses(t *testing.T) {
	before := Unmapped()["color"]
	for in, want := range map[string]string{"회색": "gray", "NCM)마칼루 그레이": "gray", " 검정 ": "black", "진주색": "white"} {
		got, ok := Color(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	_, ok := Color("-")
	assert.False(t, ok)
	assert.Equal(t, before, Unmapped()["color"], "'-' is unknown, not a miss")
	_, ok = Color("무지개색")
	assert.False(t, ok)
	assert.Equal(t, before+1, Unmapped()["color"])

	for in, want := range map[string]string{"휘발유": "gasoline", "가솔린": "gasoline", "경유": "diesel", "가솔린+전기": "hybrid", "수소": "hydrogen"} {
		got, _ := Fuel(in)
		assert.Equal(t, want, got, in)
	}
	assert.Equal(t, "", FuelInText("레반떼 3.0 V6 그란스포츠"), "Levante is not EV")
	assert.Equal(t, "hybrid", FuelInText("2.5 HEV 익스클루시브"))
}

func TestCatalogueIsConsistent(t *testing.T) {
	models := 0
	seen := map[string]bool{}
	for _, mk := range Makes() {
		assert.False(t, seen[mk.English], "make %s twice", mk.English)
		seen[mk.English] = true
		for _, md := range mk.Models {
			models++
			got, ok := mk.ModelByEnglish(md.English)
			assert.True(t, ok && got.English == md.English, "%s %s", mk.English, md.English)
		}
	}
	assert.GreaterOrEqual(t, len(Makes()), 30)
	assert.GreaterOrEqual(t, models, 200)
}

// Option tokens are spelled in two places: what extractors produce here and
// what the API validates in vehicle. A token produced but not accepted
// could never be searched for.
func TestOptionTokensAreAccepted(t *testing.T) {
	for _, o := range options {
		assert.Contains(t, vehicle.OptionTokens, o.token, o.word)
	}
}
