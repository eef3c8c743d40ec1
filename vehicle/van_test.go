package vehicle_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/vehicle"
)

// TestVanRealTitles: body_style=van over real titles, split into make,
// model and trim by the dictionary as the extractors split them. The
// titles are the dictionary's and fixtures' real Encar, Glovis and Danawa
// titles (korean's tables, testdata/captures, the simulator's inventory)
// and the van and minivan trims the sites list; whether each is a van was
// decided by hand from SPEC §3.1: cargo and two-seat variants in;
// passenger minivans (Carnival, Staria Tourer and Lounge, Starex
// passenger trims) and trucks (Porter, Bongo) out.
func TestVanRealTitles(t *testing.T) {
	for _, tc := range []struct {
		title string
		van   bool
	}{
		// Vans.
		{"현대 스타리아 카고 3인승 스마트", true},
		{"현대 스타리아 2.2 카고 5인승 스마트", true},
		{"현대 더 뉴 그랜드 스타렉스 밴 3인승 스마트", true},
		{"현대 그랜드스타렉스 밴 5인승 CVX 고급형", true},
		{"현대 그랜드스타렉스 밴 6인승 모던", true},
		{"기아 더 뉴 레이 밴 1.0 프레스티지", true},
		{"기아 올 뉴 모닝 밴 1.0 럭셔리", true},
		{"쉐보레(GM대우) 다마스 밴 2인승 DLX", true},
		{"쉐보레(GM대우) 다마스 5인승 DLX", true},
		{"현대 싼타페 CM 카고 2인승", true},
		// Passenger minivans.
		{"현대 스타리아 2.2 투어러 9인승", false},
		{"현대 스타리아 2.2 라운지 7인승", false},
		{"현대 그랜드스타렉스 왜건 12인승 스마트", false},
		{"기아 카니발 4세대 2.2 9인승 노블레스", false},
		{"기아 더 뉴 카니발 3.5 7인승 시그니처", false},
		{"쉐보레(GM대우) 다마스 코치 7인승", false},
		{"현대 쏠라티 15인승 프라임", false},
		// Trucks.
		{"현대 포터2 초장축 슈퍼캡 CRDi 스마트", false},
		{"현대 포터2 일반캡 3인승", false},
		{"기아 봉고3 1톤 킹캡 초장축 GL", false},
		{"쉐보레(GM대우) 라보 1.0 STD 2인승", false},
		// Cars whose words come near a van's.
		{"기아 K5 3세대 2.0 노블레스 그레이 에디션", false},
		{"현대 아반떼 (CN7) 1.6 인스퍼레이션", false},
		{"현대 투싼 (NX4) 1.6T 2WD 모던", false},
		{"기아 더 뉴 레이 1.0 프레스티지", false},
		{"르노(삼성) SM6 1.6 TCe RE", false},
		{"벤츠 E클래스(5세대) E250 익스클루시브", false},
		{"제네시스 더 올뉴G80 가솔린 2.5 AWD 기본형", false},
		{"기아 로체 어드밴스 LX18 기본형", false},
	} {
		mk, rest, ok := korean.MakePrefix(tc.title)
		if !assert.True(t, ok, tc.title) {
			continue
		}
		v := vehicle.Vehicle{Make: mk.English, Model: rest}
		if md, trim, ok := mk.SplitModel(rest); ok {
			v.Model, v.Trim = md.English, trim
		}
		assert.Equal(t, tc.van, vehicle.IsVan(&v), "%s (model %q, trim %q)", tc.title, v.Model, v.Trim)
	}
}
