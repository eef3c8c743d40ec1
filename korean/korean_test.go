package korean

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestTrickyTitles: titles where a substring or byte-length match once went
// wrong. Each expectation is read off the title by hand. The table runs
// twice: the second time every answer comes from the memo of matches.
func TestTrickyTitles(t *testing.T) {
	for pass := range 2 {
		t.Run(fmt.Sprint("pass", pass), trickyTitles)
	}
}

func trickyTitles(t *testing.T) {
	for _, tc := range []struct{ make_, text, model, trim string }{
		{"Kia", "K5 3세대 2.0 노블레스 그레이 에디션", "K5", "3세대 2.0 노블레스 그레이 에디션"}, // not a Ray in 그레이
		{"Kia", "K8 1.6 하이브리드 플레이", "K8", "1.6 하이브리드 플레이"},               // nor in 플레이
		{"Kia", "더 뉴 레이 1.0 프레스티지", "Ray", "1.0 프레스티지"},
		{"Kia", "레이 EV 그레이", "Ray", "EV 그레이"},
		{"Kia", "더 K9(RJ) 3.8 GDI 플래티넘Ⅱ", "K9", "3.8 GDI 플래티넘Ⅱ"},
		{"Kia", "K7 프레스티지 2.4 GDI 럭셔리", "K7", "프레스티지 2.4 GDI 럭셔리"},
		{"Kia", "K3 1.6 GDI 노블레스", "K3", "1.6 GDI 노블레스"},
		{"Hyundai", "쏘나타(DN8) L2.0 렌터카 스마트", "Sonata", "L2.0 렌터카 스마트"},
		{"Hyundai", "쏘나타 뉴 라이즈 2.0 CVVL", "Sonata", "뉴 라이즈 2.0 CVVL"},
		{"Hyundai", "쏘나타 디 엣지 LPG 2.0 렌터카 비지니스 2", "Sonata", "디 엣지 LPG 2.0 렌터카 비지니스 2"},
		{"Hyundai", "디 올뉴그랜저 하이브리드 1.6 하이브리드", "Grandeur", "하이브리드 1.6 하이브리드"},
		{"Hyundai", "그랜저HG HG 300 프리미엄", "Grandeur", "HG 300 프리미엄"},
		{"Hyundai", "아이오닉 6 롱레인지 2WD 익스클루시브", "Ioniq 6", "롱레인지 2WD 익스클루시브"},
		{"Hyundai", "제네시스 BH330 럭셔리", "Genesis", "BH330 럭셔리"},      // the Hyundai-badged Genesis
		{"Hyundai", "제네시스 DH G330 모던", "Genesis", "G330 모던"},       // the generation goes with the model
		{"Hyundai", "제네시스 쿠페 2.0T", "Genesis Coupe", "2.0T"},       // longer name wins
		{"Genesis", "G80 (RG3) 2.5T AWD", "G80", "(RG3) 2.5T AWD"}, // the make
		{"Chevrolet", "임팔라 3.6 LTZ", "Impala", "3.6 LTZ"},
		{"Chevrolet", "캡티바 2.0 디젤 LT", "Captiva", "2.0 디젤 LT"},
		{"Chevrolet", "알페온 2.4 EL240 디럭스", "Alpheon", "2.4 EL240 디럭스"},
		{"Lexus", "ES300h 7세대 이그제큐티브", "ES", "7세대 이그제큐티브"},
		{"Infiniti", "Q50 2.2d 프리미엄", "Q50", "2.2d 프리미엄"},
		{"Tesla", "모델 Y 롱레인지", "Model Y", "롱레인지"},
		{"Land Rover", "레인지로버 스포츠 3.0 SDV6", "Range Rover Sport", "3.0 SDV6"},
		// Further titles of the real Glovis pages (testdata/captures/glovis)
		// and a real Glovis title whose model the dictionary once lacked.
		{"Kia", "로체 어드밴스 LX18 기본형", "Lotze", "어드밴스 LX18 기본형"},
		{"Kia", "K5 2.0 CVVL 럭셔리", "K5", "2.0 CVVL 럭셔리"},
		{"Kia", "K7 VG270 디럭스", "K7", "VG270 디럭스"},
		{"Kia", "K8 2.5 GDI 노블레스", "K8", "2.5 GDI 노블레스"},
		{"Renault Korea", "SM6 1.6 TCe RE", "SM6", "1.6 TCe RE"},
		{"Genesis", "더 올뉴G80 가솔린 2.5 2WD 기본형", "G80", "가솔린 2.5 2WD 기본형"},
		{"Hyundai", "더 뉴그랜저IG LPi 3.0 렌터카 프리미엄", "Grandeur", "LPi 3.0 렌터카 프리미엄"},
		{"Hyundai", "디 올뉴그랜저 하이브리드 1.6 하이브리드 캘리그래피", "Grandeur", "하이브리드 1.6 하이브리드 캘리그래피"},
		// Encar's real model names (testdata/captures/encar), model group and
		// model joined as the extractor joins them.
		{"Kia", "쏘렌토 더 뉴 쏘렌토", "Sorento", "더 뉴 쏘렌토"},
		{"BMW", "5시리즈 (G30)", "5 Series", "(G30)"},
	} {
		mk, ok := MakeByEnglish(tc.make_)
		if !assert.True(t, ok, tc.make_) {
			continue
		}
		md, trim, ok := mk.SplitModel(tc.text)
		if assert.True(t, ok, tc.text) {
			assert.Equal(t, [2]string{tc.model, tc.trim}, [2]string{md.English, trim}, tc.text)
		}
	}
	// Audi has no "Q50" and Kia no "A4": no model is better than a wrong one.
	audi, _ := MakeByEnglish("Audi")
	_, ok := audi.ModelIn("Q50 2.2d")
	assert.False(t, ok, "Q50 is not a Q5")
}

// TestMatchMemoIsBounded: names never seen before do not grow the memo past
// its bound, and answers stay right across the moment it is emptied.
func TestMatchMemoIsBounded(t *testing.T) {
	kia, _ := MakeByEnglish("Kia")
	for i := range maxMatches + 100 {
		md, ok := kia.ModelIn(fmt.Sprintf("K5 %d세대", i))
		if !assert.True(t, ok) || !assert.Equal(t, "K5", md.English) {
			return
		}
		matches.RLock()
		n := len(matches.m)
		matches.RUnlock()
		if !assert.LessOrEqual(t, n, maxMatches) {
			return
		}
	}
	clear(matches.m)
	long := "K5 " + strings.Repeat("노블레스 ", 40) // over 500 bytes of trim after the model
	md, ok := kia.ModelIn(long + "X")
	assert.True(t, ok)
	assert.Equal(t, "K5", md.English)
	assert.Empty(t, matches.m, "a text longer than any model name is matched, not remembered")
}

func TestMakeSpellings(t *testing.T) {
	for in, want := range map[string]string{
		"쉐보레(대우)": "Chevrolet", "쉐보레(GM대우)": "Chevrolet", "피아트": "Fiat", "시트로엥": "Citroen",
		"페라리": "Ferrari", "르노(삼성)": "Renault Korea", "제네시스": "Genesis", "현대": "Hyundai",
	} {
		mk, ok := MakeByName(in)
		if assert.True(t, ok, in) {
			assert.Equal(t, want, mk.English, in)
		}
	}
	for title, want := range map[string][3]string{
		"제네시스 G80 2.5T AWD":    {"Genesis", "G80", "2.5T AWD"},
		"현대 제네시스 DH G330 모던":   {"Hyundai", "Genesis", "G330 모던"},
		"피아트 500X 1.4 팝스타":     {"Fiat", "500X", "1.4 팝스타"},
		"시트로엥 C4 칵투스 1.6 샤인":   {"Citroen", "C4 Cactus", "1.6 샤인"},
		"페라리 로마 3.9 V8":        {"Ferrari", "Roma", "3.9 V8"},
		"쉐보레(GM대우) 알페온 2.4 EL": {"Chevrolet", "Alpheon", "2.4 EL"},
	} {
		mk, rest, ok := MakePrefix(title)
		if !assert.True(t, ok, title) {
			continue
		}
		md, trim, ok := mk.SplitModel(rest)
		if assert.True(t, ok, title) {
			assert.Equal(t, want, [3]string{mk.English, md.English, trim}, title)
		}
	}
}

// TestColorIsDeterministic: Glovis' short colour words, and a paint name
// naming two colours gives the same answer every time (the earlier word).
func TestColorIsDeterministic(t *testing.T) {
	for in, want := range map[string]string{
		"파랑": "blue", "빨강": "red", "미색": "beige", "노랑": "yellow", "초록": "green", "주황": "orange",
		"갈대": "brown", "ABP)오로라 블랙 펄": "black", "흰색": "white", "검정": "black", "은색": "silver",
	} {
		got, ok := Color(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for range 50 {
		got, _ := Color("블랙 그린 투톤")
		require.Equal(t, "black", got)
		got, _ = Color("그린 블랙 투톤")
		require.Equal(t, "green", got)
	}
}

// refFold is fold written another way, to hold fold's fast path and its
// copy to the same answer.
func refFold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0':
			return -1
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"가솔린":        "가솔린",
		"더 뉴 그랜저 ig": "더뉴그랜저IG",
		"모델\u00a03":  "모델3",
		"a/t":        "A/T",
		"\t오토\r\n":   "오토",
		"\xff오토":     "\ufffd오토",
		"\xc2오토":     "\ufffd오토", // a lead byte of U+00A0 without its tail
		"":           "",
		"ÀÉ ñ":       "ÀÉñ", // only ASCII letters change case
		"XDRIVE 4X4": "XDRIVE4X4",
	} {
		assert.Equal(t, want, fold(in), "%q", in)
		var buf [4]byte
		assert.Equal(t, want, string(appendFold(buf[:0], in)), "%q, past a short buffer", in)
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"가솔린", "더 뉴 그랜저 ig", "모델\u00a03", "\xff", "\xc2\xa0", "\xc2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := fold(s), refFold(s); got != want {
			t.Fatalf("fold(%q) = %q, want %q", s, got, want)
		}
	})
}

func TestDrivetrain(t *testing.T) {
	for in, want := range map[string]string{
		"2.5 AWD 기본형":                      "AWD",
		"530i xDrive M 스포츠":                "AWD",
		"E300 4matic":                      "AWD",
		"45 TFSI 콰트로":                      "AWD",
		"2.2 4wd 프레스티지":                    "4WD",
		"4WD AWD":                          "4WD", // the first layout in the list wins
		"가솔린 2.0 전륜":                       "FWD",
		"후륜 3.3":                           "RWD",
		"2.0 프리미엄":                         "",
		"2WD":                              "",
		"X DRIVE":                          "AWD", // spaces are folded away
		strings.Repeat("가", 60) + " htrac": "AWD", // longer than the stack buffer
	} {
		assert.Equal(t, want, Drivetrain(in), "%q", in)
	}
}
