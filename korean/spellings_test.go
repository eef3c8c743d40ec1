package korean

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEncarFuelTypes: every FuelType value of Encar's own facet list (the
// iNav of testdata/captures/encar/search-list-mobile-200.json, copied here
// word for word) and the spellings the upstream notes give, with what each
// means written by hand. A word the contract has no value for (CNG, 기타
// "other") is unknown and counted, never the nearest guess.
func TestEncarFuelTypes(t *testing.T) {
	for in, want := range map[string]string{
		"가솔린":         "gasoline",
		"디젤":          "diesel",
		"LPG(일반인 구입)": "lpg",
		"LPG(장애인 구입)": "lpg", // the same qualifier, another buyer
		"LPG":         "lpg",
		"가솔린+전기":      "hybrid",
		"디젤+전기":       "diesel_hybrid",
		"LPG+전기":      "hybrid",
		"가솔린+LPG":     "lpg",
		"전기":          "electric",
		"수소":          "hydrogen",
		"가솔린+CNG":     "",
		"CNG":         "",
		"기타":          "",
		"LPG(일반인)":    "", // a qualifier of another form is not guessed at
	} {
		before := Unmapped()["fuel"]
		got, ok := Fuel(in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, want != "", ok, in)
		if want == "" {
			assert.Equal(t, before+1, Unmapped()["fuel"], "%s is counted as a miss", in)
		}
		assert.Equal(t, want != "", Known(KindFuel, in), in)
	}
}

// TestFullMakerNames: makers' company names, as an Encar answer may carry
// them, are their makes.
func TestFullMakerNames(t *testing.T) {
	for in, want := range map[string]string{
		"현대자동차": "Hyundai", "기아자동차": "Kia", "쌍용자동차": "KG Mobility", "르노삼성자동차": "Renault Korea",
		"한국GM": "Chevrolet", "현대": "Hyundai", "기아": "Kia",
	} {
		mk, ok := MakeByName(in)
		if assert.True(t, ok, in) {
			assert.Equal(t, want, mk.English, in)
		}
	}
	mk, rest, ok := MakePrefix("현대자동차 그랜저 IG 3.0")
	if assert.True(t, ok) {
		assert.Equal(t, [2]string{"Hyundai", "그랜저 IG 3.0"}, [2]string{mk.English, rest})
	}
	_, ok = MakeByName("기타 제조사")
	assert.False(t, ok, "Encar's 'other maker' is no make")
}

func TestMakeSpellingsNameCatalogueMakes(t *testing.T) {
	for s, english := range makeSpellings {
		_, ok := MakeByEnglish(english)
		assert.True(t, ok, "%s: %s is not a make of the catalogue", s, english)
	}
}
