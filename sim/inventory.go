package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// model is one model group the simulated sites list, in the upstreams' own
// Korean words.
type model struct {
	make_    string // Encar manufacturer name
	danawa   string // how Danawa titles spell the make
	glovis   string // how Glovis brackets spell the make
	domestic bool
	group    string   // model group
	gens     []string // generation names as Encar's Model field has them
	trims    []string
	fuels    []string // Encar fuel words
	cc       int
	price    int // typical price of a 3-year-old car, 만원
}

var models = []model{
	{"현대", "현대", "현대", true, "아반떼", []string{"아반떼 (CN7)", "더 뉴 아반떼 AD"}, []string{"1.6 스마트", "1.6 모던", "1.6 인스퍼레이션"}, []string{"가솔린", "LPG", "가솔린+전기"}, 1598, 1700},
	{"현대", "현대", "현대", true, "쏘나타", []string{"쏘나타 (DN8)", "쏘나타 디 엣지"}, []string{"2.0 프리미엄", "2.0 익스클루시브", "1.6 터보 인스퍼레이션"}, []string{"가솔린", "LPG", "가솔린+전기"}, 1999, 2300},
	{"현대", "현대", "현대", true, "그랜저", []string{"그랜저 IG", "디 올 뉴 그랜저"}, []string{"2.5 프리미엄", "3.3 캘리그래피", "1.6 하이브리드 익스클루시브"}, []string{"가솔린", "LPG", "가솔린+전기"}, 2497, 3300},
	{"현대", "현대", "현대", true, "싼타페", []string{"싼타페 TM", "디 올 뉴 싼타페"}, []string{"2.2 4WD 프레스티지", "2.5T 캘리그래피"}, []string{"디젤", "가솔린"}, 2199, 3400},
	{"현대", "현대", "현대", true, "투싼", []string{"투싼 (NX4)"}, []string{"1.6T 2WD 모던", "1.6T 4WD 인스퍼레이션"}, []string{"가솔린", "디젤", "가솔린+전기"}, 1598, 2600},
	{"현대", "현대", "현대", true, "팰리세이드", []string{"팰리세이드"}, []string{"2.2 4WD 프레스티지", "3.8 2WD 캘리그래피"}, []string{"디젤", "가솔린"}, 2199, 4200},
	{"현대", "현대", "현대", true, "아이오닉5", []string{"아이오닉5"}, []string{"롱레인지 2WD 익스클루시브", "롱레인지 AWD 프레스티지"}, []string{"전기"}, 0, 3900},
	{"현대", "현대", "현대", true, "스타리아", []string{"스타리아"}, []string{"2.2 투어러 9인승", "2.2 라운지 7인승", "2.2 카고 3인승 스마트"}, []string{"디젤", "LPG"}, 2199, 3300},
	{"제네시스", "제네시스", "제네시스", true, "G80", []string{"G80 (RG3)", "더 올뉴G80"}, []string{"2.5T AWD 기본형", "3.5T AWD 스포츠"}, []string{"가솔린"}, 2497, 5200},
	{"제네시스", "제네시스", "제네시스", true, "GV70", []string{"GV70"}, []string{"2.5T AWD", "2.2D AWD"}, []string{"가솔린", "디젤"}, 2497, 5000},
	{"제네시스", "제네시스", "제네시스", true, "GV80", []string{"GV80"}, []string{"3.0D AWD", "2.5T AWD"}, []string{"디젤", "가솔린"}, 2959, 6400},
	{"기아", "기아", "기아", true, "K5", []string{"K5 3세대", "더 뉴 K5 2세대"}, []string{"2.0 프레스티지", "1.6 터보 노블레스"}, []string{"가솔린", "LPG", "가솔린+전기"}, 1999, 2200},
	{"기아", "기아", "기아", true, "K8", []string{"K8"}, []string{"2.5 노블레스", "3.5 시그니처", "1.6 하이브리드 노블레스"}, []string{"가솔린", "가솔린+전기"}, 2497, 3600},
	{"기아", "기아", "기아", true, "쏘렌토", []string{"쏘렌토 4세대", "더 뉴 쏘렌토 4세대"}, []string{"디젤 2.2 4WD 노블레스", "1.6 하이브리드 2WD 시그니처", "2.5T 4WD 그래비티"}, []string{"디젤", "가솔린+전기", "가솔린"}, 2151, 3500},
	{"기아", "기아", "기아", true, "카니발", []string{"카니발 4세대", "더 뉴 카니발"}, []string{"2.2 9인승 노블레스", "3.5 7인승 시그니처"}, []string{"디젤", "가솔린"}, 2151, 3700},
	{"기아", "기아", "기아", true, "스포티지", []string{"스포티지 5세대", "스포티지 4세대"}, []string{"1.6T 2WD 프레스티지", "2.0D 4WD 노블레스"}, []string{"가솔린", "디젤", "가솔린+전기"}, 1598, 2600},
	{"기아", "기아", "기아", true, "레이", []string{"더 뉴 레이"}, []string{"1.0 프레스티지", "1.0 시그니처"}, []string{"가솔린"}, 998, 1200},
	{"기아", "기아", "기아", true, "모닝", []string{"올 뉴 모닝"}, []string{"1.0 럭셔리", "1.0 프레스티지"}, []string{"가솔린"}, 998, 950},
	{"쉐보레(GM대우)", "쉐보레(GM대우)", "쉐보레", true, "트레일블레이저", []string{"트레일블레이저"}, []string{"1.3 LT", "1.3 RS"}, []string{"가솔린"}, 1341, 2000},
	{"쉐보레(GM대우)", "쉐보레(GM대우)", "쉐보레", true, "말리부", []string{"더 뉴 말리부"}, []string{"1.35 LT", "2.0 터보 프리미어"}, []string{"가솔린"}, 1341, 1700},
	{"르노코리아(삼성)", "르노(삼성)", "르노(삼성)", true, "QM6", []string{"더 뉴 QM6"}, []string{"2.0 LPe RE", "2.0 GDe RE 시그니처"}, []string{"LPG", "가솔린"}, 1997, 2000},
	{"르노코리아(삼성)", "르노(삼성)", "르노(삼성)", true, "SM6", []string{"SM6"}, []string{"1.6 TCe RE", "2.0 LPe LE"}, []string{"가솔린", "LPG"}, 1618, 1600},
	{"KG모빌리티(쌍용)", "KG모빌리티(쌍용)", "쌍용", true, "토레스", []string{"토레스"}, []string{"1.5 T7", "1.5 T5"}, []string{"가솔린"}, 1497, 2500},
	{"KG모빌리티(쌍용)", "KG모빌리티(쌍용)", "쌍용", true, "티볼리", []string{"더 뉴 티볼리"}, []string{"1.5 V3", "1.6 디젤 V5"}, []string{"가솔린", "디젤"}, 1497, 1500},
	{"BMW", "BMW", "BMW", false, "5시리즈", []string{"5시리즈 (G30)", "5시리즈 (G60)"}, []string{"520i M 스포츠", "530i xDrive M 스포츠", "523d 럭셔리"}, []string{"가솔린", "디젤"}, 1998, 5500},
	{"BMW", "BMW", "BMW", false, "3시리즈", []string{"3시리즈 (G20)"}, []string{"320i M 스포츠", "320d 럭셔리"}, []string{"가솔린", "디젤"}, 1998, 3900},
	{"BMW", "BMW", "BMW", false, "X5", []string{"X5 (G05)"}, []string{"xDrive30d M 스포츠", "xDrive40i xLine"}, []string{"디젤", "가솔린"}, 2993, 8500},
	{"벤츠", "벤츠", "벤츠", false, "E클래스", []string{"E클래스 W213", "E클래스(5세대)"}, []string{"E250 익스클루시브", "E300 4MATIC AMG 라인", "E220d 아방가르드"}, []string{"가솔린", "디젤"}, 1991, 5600},
	{"벤츠", "벤츠", "벤츠", false, "C클래스", []string{"C클래스 W206"}, []string{"C300 4MATIC AMG 라인", "C200 아방가르드"}, []string{"가솔린"}, 1999, 4800},
	{"아우디", "아우디", "아우디", false, "A6", []string{"A6 (C8)"}, []string{"45 TFSI 콰트로 프리미엄", "40 TDI 프리미엄"}, []string{"가솔린", "디젤"}, 1984, 5000},
	{"테슬라", "테슬라", "테슬라", false, "모델Y", []string{"모델 Y"}, []string{"롱레인지 AWD", "RWD"}, []string{"전기"}, 0, 5200},
	{"볼보", "볼보", "볼보", false, "XC60", []string{"XC60 2세대"}, []string{"B5 AWD 인스크립션", "B6 AWD 얼티메이트"}, []string{"가솔린+전기", "가솔린"}, 1969, 5300},
	{"렉서스", "렉서스", "렉서스", false, "ES", []string{"ES300h 7세대"}, []string{"이그제큐티브", "럭셔리 플러스"}, []string{"가솔린+전기"}, 2487, 4600},
}

// car is one generated vehicle, in upstream terms.
type car struct {
	id       int
	m        *model
	gen      string
	trim     string
	detail   string // Encar BadgeDetail
	fuel     string // Encar word
	auto     bool
	year     int // model year
	regYM    int // first registration YYYYMM
	km       int
	price    int // 만원
	color    string
	city     string
	modified time.Time
	sellType string
	dup      bool // Encar ServiceCopyCar=DUPLICATION
	sold     bool // no longer listed; its detail says SOLD
	plate    string
}

var (
	colors = []string{"검정색", "흰색", "회색", "은색", "진주색", "파란색", "빨간색", "쥐색"}
	cities = []string{"서울", "경기", "인천", "부산", "대구", "대전", "광주", "경남"}
	hangul = []string{"가", "나", "다", "라", "마", "거", "너", "더", "러", "머", "버", "서", "어", "저", "고", "노", "도", "로", "모", "보", "소", "오", "조", "구", "누", "두", "루", "무", "부", "수", "우", "주"}
)

// epoch is the simulated "now": inventories are generated relative to it so
// they are the same on every run.
var epoch = time.Date(2025, 6, 18, 12, 0, 0, 0, kst)

var kst = time.FixedZone("KST", 9*3600)

func generate(r *rand.Rand, n, firstID int) []car {
	cars := make([]car, n)
	for i := range cars {
		m := &models[r.IntN(len(models))]
		age := r.IntN(9)
		year := 2025 - age
		km := age*12000 + r.IntN(15000)
		if age == 0 {
			km = r.IntN(8000)
		}
		// Older and higher-mileage cars are cheaper, with some spread.
		factor := 1.25 - 0.09*float64(age) - float64(km)/1_000_000 + (r.Float64()-0.5)*0.2
		price := max(int(float64(m.price)*factor), 150)
		c := car{
			id: firstID + i, m: m, gen: m.gens[r.IntN(len(m.gens))], trim: m.trims[r.IntN(len(m.trims))],
			fuel: m.fuels[r.IntN(len(m.fuels))], auto: r.IntN(20) != 0, year: year,
			regYM: (year-1)*100 + 1 + r.IntN(12), km: km, price: price,
			color: colors[r.IntN(len(colors))], city: cities[r.IntN(len(cities))],
			modified: epoch.Add(-time.Duration(r.IntN(60*24*3600)) * time.Second),
			sellType: "일반",
			plate:    fmt.Sprintf("%d%s%04d", 10+r.IntN(290), hangul[r.IntN(len(hangul))], r.IntN(10000)),
		}
		if c.regYM%100 > 9 { // registered late in the year before: same model year
			c.regYM = year*100 + 1 + r.IntN(3)
		}
		lateRegistration(&c)
		switch x := r.IntN(40); {
		case x == 0:
			c.sellType = "리스"
		case x == 1:
			c.sellType = "렌트"
		case x == 2:
			c.dup = true
		}
		if r.IntN(3) == 0 {
			c.detail = "(세부등급 없음)"
		}
		cars[i] = c
	}
	return cars
}

// lateRegistration registers some cars at the edges Encar's year order is
// read with (RegistrationLead and RegistrationLag in sources/encar): a car
// sold in January of the year before its model year, and cars that sat in
// stock and were registered one or two years after it, as late as the
// December two years on. It draws nothing from the generator, so every
// other value of the inventory stays as it was.
func lateRegistration(c *car) {
	switch c.id % 23 {
	case 0:
		c.regYM = (c.year-1)*100 + 1
	case 5, 11:
		lag := 1 + c.id%2
		c.regYM = (c.year+lag)*100 + 1 + c.id%12
		if c.id%3 == 0 {
			c.regYM = (c.year+2)*100 + 12
		}
	}
	if latest := epoch.Year()*100 + int(epoch.Month()); c.regYM > latest {
		c.regYM = latest // not registered in the simulator's future
	}
}

// Listing is one simulated ad in the upstream's own words, for tests that
// check the service against the inventory (read-only copies).
type Listing struct {
	ID          string // Encar's Id, or Danawa's partner-carSeq of the bridge link
	Make        string // Encar's manufacturer name
	ModelGroup  string // Encar's model group
	Generation  string // Encar's Model, the generation
	Trim        string
	Fuel        string // Encar's fuel word
	Manual      bool
	Year        int // model year
	Registered  int // first registration, YYYYMM
	MileageKm   int
	PriceManwon int
	Modified    time.Time
	Lease       bool // 리스
	Rental      bool // 렌트
	Duplicate   bool // ServiceCopyCar DUPLICATION
	Sold        bool // gone from search
	AskPrice    bool // Danawa shows 상담 instead of a price
}

// EncarListings returns every Encar ad, the sold ones included.
func (s *Sim) EncarListings() []Listing {
	out := make([]Listing, len(s.encar))
	for i := range s.encar {
		out[i] = listing(&s.encar[i], strconv.Itoa(s.encar[i].id))
	}
	return out
}

// DanawaListings returns every Danawa ad.
func (s *Sim) DanawaListings() []Listing {
	out := make([]Listing, len(s.danawa))
	for i := range s.danawa {
		c := &s.danawa[i]
		out[i] = listing(c, partners[c.id%len(partners)]+"-"+strconv.Itoa(c.id))
		out[i].AskPrice = askPrice(c)
	}
	return out
}

func listing(c *car, id string) Listing {
	return Listing{ID: id, Make: c.m.make_, ModelGroup: c.m.group, Generation: c.gen, Trim: c.trim, Fuel: c.fuel,
		Manual: !c.auto, Year: c.year, Registered: c.regYM, MileageKm: c.km, PriceManwon: c.price, Modified: c.modified,
		Lease: c.sellType == "리스", Rental: c.sellType == "렌트", Duplicate: c.dup, Sold: c.sold}
}

// askPrice: some Danawa ads show 상담 ("ask") instead of a price, whatever
// the query that lists them.
func askPrice(c *car) bool { return c.id%97 == 50 }
