package sim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The simulated K Car auction: weekly, Thursdays 13:00-18:00, four lanes
// (lane D stays empty, as real lanes C and D may be), at two sites. The
// list answer is JSON shaped as the real one (every value a string, 236
// keys a row). Its confirmed-exhibit page (wCfm) shows the next auction
// that has not ended; its results page (wRst) the last that has. A car
// that does not sell comes back the next week (at most three times) with
// a new exhibit number, the same plate, and in half the cases a new
// CAR_ID, so auction.count must be told by more than the car record.

// KCarName is the K Car upstream's name in the fault-control API.
const KCarName = "kcar"

// kcarAuctions are the simulated weekly auctions, by auction code: the
// code is opaque, as the real one (AC20260409 was the auction of
// 2026-04-30).
var kcarAuctions = []kcarAuction{
	{"AC20250523", time.Date(2025, 6, 12, 13, 0, 0, 0, kst)},
	{"AC20250530", time.Date(2025, 6, 19, 13, 0, 0, 0, kst)},
	{"AC20250606", time.Date(2025, 6, 26, 13, 0, 0, 0, kst)},
	{"AC20250613", time.Date(2025, 7, 3, 13, 0, 0, 0, kst)},
	{"AC20250620", time.Date(2025, 7, 10, 13, 0, 0, 0, kst)},
}

type kcarAuction struct {
	code  string
	start time.Time
}

// KCarWindow is how long bidding stays open; results show when it closes.
const KCarWindow = 5 * time.Hour

func (a kcarAuction) end() time.Time { return a.start.Add(KCarWindow) }

// kcarSites: lanes A and B are at 오산 (code 112, as in the real answer),
// lane C at 세종, whose real code is not known (213 is this simulator's).
var kcarSites = map[string][2]string{"A": {"112", "오산경매장"}, "B": {"112", "오산경매장"}, "C": {"213", "세종경매장"}}

// Lot status words and codes of the simulated site.
var kcarStates = map[string][2]string{
	"":      {"AC010", "출품마감"},
	"live":  {"AC020", "경매진행"},
	"sold":  {"AC030", "낙찰"},
	"nobid": {"AC040", "유찰"},
	"void":  {"AC050", "취소"},
}

// kcarStatus is the contract's status of each simulated result.
var kcarStatus = map[string]string{"": "upcoming", "live": "upcoming", "sold": "sold", "nobid": "no_bid", "void": "no_bid"}

type kcarLot struct {
	car
	auction  int // index in kcarAuctions
	lane     string
	no       int    // EXBIT_SEQ
	carID    string // CAR_ID
	result   string // sold, nobid, void
	priceWon int    // AUC_STRT_PRC; 0 when not published
	hammer   int    // SCSBID_PRC, 만원, when sold
	letter   string // CAR_POINT2
	point    int    // CAR_POINT, 8 best
	kcolor   string // K Car colour word
	sub      string // GRD_SCSF_NM
	rental   bool
	created  time.Time
	rnum     int
}

// K Car's spellings and codes.
var (
	kcarMakes = map[string][2]string{ // Encar make → MNUFTR_CD, MNUFTR_NM
		"현대": {"001", "현대"}, "기아": {"002", "기아"}, "쉐보레(GM대우)": {"003", "쉐보레(GM대우)"},
		"KG모빌리티(쌍용)": {"004", "KGM"}, "르노코리아(삼성)": {"005", "르노코리아(삼성)"}, "제네시스": {"007", "제네시스"},
		"아우디": {"011", "아우디"}, "BMW": {"012", "BMW"}, "벤츠": {"013", "벤츠"}, "볼보": {"021", "볼보"},
		"렉서스": {"025", "렉서스"}, "테슬라": {"060", "테슬라"},
	}
	kcarFuels = map[string][2]string{ // Encar fuel word → FUEL_CD, FUEL_TYPE_NM
		"가솔린": {"001", "가솔린"}, "디젤": {"002", "디젤"}, "LPG": {"003", "LPG"}, "가솔린+전기": {"006", "가솔린+전기"}, "전기": {"009", "전기"},
	}
	kcarColors = map[string]string{ // K Car colour word → COLOR_CD
		"검정색": "001", "은색": "004", "흰색": "007", "진주색": "008", "파란색": "005", "빨간색": "006", "회색": "003", "기타": "999",
	}
	kcarSubs = []string{"", "", "프레스티지", "시그니처", "세부등급 없음", "2WD", "AWD (5인승)"}
)

func generateKCar(r *rand.Rand, n int) []kcarLot {
	cars := generate(r, n, 0)
	var lots []kcarLot
	next := map[[2]int]int{} // {auction, lane} → last exhibit number
	for i := range cars {
		c := cars[i]
		if _, ok := kcarMakes[c.m.make_]; !ok {
			continue
		}
		lane := "ABC"[r.IntN(3):][:1]
		if r.IntN(5) == 0 {
			lane = "B" // B is the busiest lane
		}
		base := kcarLot{car: c, lane: lane, rental: r.IntN(3) != 0}
		base.kcolor = c.color
		if c.color == "쥐색" || r.IntN(100) < 40 {
			base.kcolor = "기타" // most rows do not name their colour
		}
		switch x := r.IntN(100); {
		case x < 87:
			base.letter = "A"
		case x < 95:
			base.letter = "B"
		default:
			base.letter = "C"
		}
		age := 2025 - c.year
		base.point = min(max(8-age+r.IntN(3)-1, 1), 8) // younger cars score higher
		base.sub = kcarSubs[r.IntN(len(kcarSubs))]
		carID := 20250000 + i*7
		first := r.IntN(len(kcarAuctions))
		for attempt := 1; first+attempt-1 < len(kcarAuctions) && attempt <= 3; attempt++ {
			l := base
			l.auction = first + attempt - 1
			key := [2]int{l.auction, strings.Index("ABCD", lane)}
			next[key]++
			l.no = (strings.Index("ABCD", lane)+1)*1000 + next[key]
			if attempt > 1 && r.IntN(2) == 0 {
				carID += 3 // put up again under a new car record
			}
			l.carID = fmt.Sprintf("CA%d", carID)
			if r.IntN(100) < 21 {
				// Published start prices are round: multiples of 50,000 won.
				l.priceWon = max(c.price*(20-attempt+1)/20, 50) * 10000 / 50000 * 50000
			}
			l.created = kcarAuctions[l.auction].start.Add(-time.Duration(24+r.IntN(30*24)) * time.Hour)
			l.rnum = 40 + r.IntN(400)
			switch x := r.IntN(100); {
			case x < 48:
				l.result = "sold"
				l.hammer = max(c.price*(20-attempt+1)/20, 50) + r.IntN(100)
			case x < 95:
				l.result = "nobid"
			default:
				l.result = "void"
			}
			lots = append(lots, l)
			if l.result != "nobid" {
				break
			}
		}
	}
	return lots
}

// state is what the site says of l at now: "" before its auction, "live"
// while bidding is open, then its result.
func (l *kcarLot) state(now time.Time) string {
	a := kcarAuctions[l.auction]
	switch {
	case now.Before(a.start):
		return ""
	case now.Before(a.end()):
		return "live"
	}
	return l.result
}

// kcarShown is the auction a page type shows at now: wCfm the first that
// has not ended, wRst the last that has; -1 for none.
func kcarShown(pageType string, now time.Time) int {
	switch pageType {
	case "wCfm":
		for i, a := range kcarAuctions {
			if now.Before(a.end()) {
				return i
			}
		}
	case "wRst":
		for i := len(kcarAuctions) - 1; i >= 0; i-- {
			if !now.Before(kcarAuctions[i].end()) {
				return i
			}
		}
	}
	return -1
}

// KCarLot is a lot as the simulated K Car site shows it now.
type KCarLot struct {
	ID       string    // the id the service gives the lot
	CarID    string    // CAR_ID
	Plate    string    // CNO: the physical car
	Date     time.Time // its auction's start
	Status   string    // the contract's auction status
	Listed   bool      // a page of the site (wCfm or wRst) shows it now
	Lane     string
	PageType string // the page that shows it: wCfm or wRst, "" when not listed

	Make, ModelGroup string // Encar's words for the make and model group
	// K Car's own words, as the list answer has them: MNUFTR_NM, MODEL_NM,
	// and the trim's two grade names, GRD_LCSF_NM and GRD_SCSF_NM.
	KCarMake, KCarModel, TrimLarge, TrimSmall string
	Fuel                                      string // Encar's word for the fuel
	Manual                                    bool
	Year                                      int
	MileageKm                                 int
	PriceWon                                  int    // start price; 0 when not published
	Color                                     string // K Car's colour word; 기타 for none
	Grade                                     string // "A2": CAR_POINT2 and CAR_POINT
}

// KCarLots returns every lot the simulation holds, as it stands at the
// simulator's clock, for tests to compute what the service should serve.
func (s *Sim) KCarLots() []KCarLot {
	now := s.Now()
	cfm, rst := kcarShown("wCfm", now), kcarShown("wRst", now)
	out := make([]KCarLot, len(s.kcar))
	for i := range s.kcar {
		l := &s.kcar[i]
		a := kcarAuctions[l.auction]
		page := ""
		switch l.auction {
		case cfm:
			page = "wCfm"
		case rst:
			page = "wRst"
		}
		out[i] = KCarLot{
			ID: "kcar_" + strings.ToLower(a.code) + "_" + strconv.Itoa(l.no), CarID: l.carID, Plate: l.plate,
			Date: a.start, Status: kcarStatus[l.state(now)], Listed: page != "", Lane: l.lane, PageType: page,
			Make: l.m.make_, ModelGroup: l.m.group, KCarMake: kcarMakes[l.m.make_][1], KCarModel: l.gen,
			TrimLarge: l.trim, TrimSmall: l.sub, Fuel: l.fuel, Manual: !l.auto, Year: l.year, MileageKm: l.km,
			PriceWon: l.priceWon, Color: l.kcolor, Grade: l.letter + strconv.Itoa(l.point),
		}
	}
	return out
}

// KCar returns the K Car auction site handler.
func (s *Sim) KCar() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /kcar/auction/getAuctionCarList_ajax.do", s.serve(KCarName, s.kcarList, kcarLogin))
	mux.Handle("/", s.serve(KCarName, kcarNotFound, kcarLogin))
	return mux
}

// kcarListFields are the form fields the site's page sends; the site
// answers a request without one of them with Tomcat's 404.
var kcarListFields = strings.Fields(`AUC_TYPE SRC_OPT PAGE_TYPE LANE_TYPE PAGE_CNT START_RNUM ORDER MNUFTR_CD
	MODEL_GRP_CD MODEL_CD OPTION_CD FORM_YR_ST FORM_YR_ED AUC_START_PRC_ST AUC_START_PRC_ED MILG_ST MILG_ED CNO
	FUEL_CD GBOX_DCD COLOR_CD CAR_TYPE CARMD_CD TO_DATE FROM_DATE CAR_STAT_CD AUC_SEQ TODAY IPTCAR_DCD AUC_PLC_CD`)

func kcarNotFound(*http.Request, bool) page {
	return page{http.StatusNotFound, "text/html;charset=utf-8", []byte(`<!doctype html><html lang="en"><head><title>HTTP Status 404 – Not Found</title></head><body><h1>HTTP Status 404 – Not Found</h1></body></html>`)}
}

// kcarLogin is what an expired session gets: the login page, status 200.
func kcarLogin() page {
	return page{http.StatusOK, "text/html;charset=UTF-8", []byte(`<!DOCTYPE html><html lang="ko"><head><meta charset="UTF-8"><title>케이카 경매</title><script>alert('로그인 후 이용 가능합니다.'); location.href='/kcar/user/user_login.do';</script></head><body></body></html>`)}
}

// kcarList answers the list request. Paging is by page number
// (START_RNUM 1, 2, …), at most 100 rows a page; rows come in exhibit
// order. Drift renames MILG in every row.
func (s *Sim) kcarList(r *http.Request, drift bool) page {
	if err := r.ParseForm(); err != nil {
		return kcarNotFound(r, drift)
	}
	for _, f := range kcarListFields {
		if _, ok := r.PostForm[f]; !ok {
			return kcarNotFound(r, drift)
		}
	}
	f := r.PostForm
	size, err := strconv.Atoi(f.Get("PAGE_CNT"))
	if err != nil || size < 1 || size > 100 {
		size = 100
	}
	pageNo, err := strconv.Atoi(f.Get("START_RNUM"))
	if err != nil || pageNo < 1 {
		pageNo = 1
	}
	pageType, lane := f.Get("PAGE_TYPE"), f.Get("LANE_TYPE")
	now := s.Now()
	var rows []map[string]any
	if f.Get("AUC_TYPE") == "weekly" && lane != "D" {
		shown := kcarShown(pageType, now)
		var matched []*kcarLot
		for i := range s.kcar {
			if l := &s.kcar[i]; shown >= 0 && l.auction == shown && l.lane == lane {
				matched = append(matched, l)
			}
		}
		// Lots were generated car by car; the site lists them by exhibit number.
		sortLots(matched)
		for i := (pageNo - 1) * size; i >= 0 && i < len(matched) && i < pageNo*size; i++ {
			rows = append(rows, kcarRow(matched[i], now, pageType, drift))
		}
	}
	if rows == nil {
		rows = []map[string]any{}
	}
	echo := kcarEcho(f, size, pageNo)
	body, err := json.Marshal(map[string]any{"auctionReqVo": echo, "CAR_LIST": rows})
	if err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	return page{http.StatusOK, "application/json;charset=UTF-8", body}
}

func sortLots(ls []*kcarLot) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].no < ls[j-1].no; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// kcarEcho is auctionReqVo: the request as the server resolved it.
func kcarEcho(f map[string][]string, size, pageNo int) map[string]any {
	e := map[string]any{}
	for _, k := range strings.Fields(`ALARM_YN AUC_CD AUC_DIV_CD AUC_PLC_CD AUC_SEQ AUC_START_PRC_ED AUC_START_PRC_ST
		BID_CRT_SEQ BID_DCD BID_PRC CARMD_CD CAR_ID CAR_STAT_CD CAR_TYPE CD_MAPNG_VAL1 CD_MAPNG_VAL2 CD_MAPNG_VAL3
		CHECK_AUC CHNG_USR_ID CMN_BAS_CD CMN_CD CMN_CD_NM CNO COLOR_CD CRT_USR_ID DEL_YN END_DATE EXBIT_SEQ EXPECT_PRC
		FORM_YR_ED FORM_YR_ST FROM_DATE FUEL_CD GBOX_DCD IPTCAR_DCD MESSAGE MILG_ED MILG_ST MNUFTR_CD MOBILE MODEL_CD
		MODEL_GRP_CD OPTION_CD ORDER SN_SEQ SPECIAL_COMPANY_TYPE_NM START_DATE STAT_DCD TITLE TODAY TO_DATE TRCK_YN
		TYPE_DCD USR_ID s_USER_IP searchChannel setSearch`) {
		e[k] = ""
	}
	for _, k := range []string{"BID_FLAG_LIST", "CAR_ID_LIST", "COLOR_CD_LIST", "FUEL_CD_LIST", "GBOX_DCD_LIST"} {
		e[k] = []string{}
	}
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	e["AUC_TYPE"], e["SRC_OPT"], e["PAGE_TYPE"], e["LANE_TYPE"] = get("AUC_TYPE"), get("SRC_OPT"), get("PAGE_TYPE"), get("LANE_TYPE")
	e["AUC_STAT"], e["CAR_STATUS_CD_LIST"], e["ORDER2"], e["SPECIAL_YN"] = "AC010", []string{"C020"}, "T.EXBIT_SEQ ASC", "N"
	e["PAGE_CNT"], e["START_RNUM"], e["END_RNUM"], e["CAR_ID_CNT"] = size, pageNo, pageNo*size, 0
	e["s_USER_ID"] = "member0000"
	return e
}

// kcarEmpty are the row fields always empty in a list answer (inspection
// items, company and member fields…): kept so a row has the real shape.
var kcarEmpty = strings.Fields(`ACCIDENT_YN AC_DEVICENM ADDR_CHECK ADDR_CHECKNM APILLER_LEFT APILLER_RIGHT
	AT_OILLEAKAGE AT_OILQUANTITY AT_OPERATION AT_STALLADVANCE AT_STALLREVERSE AUC_DTTM AUC_RESULT_DT AUC_RESULT_STS
	AUC_SEQ AUC_TYPE BACKDASHPANEL BACKDOOR_LEFT BACKDOOR_RIGHT BACKSIDEMEMBER_LEFT BACKSIDEMEMBER_RIGHT
	BACKWHEELHOUSE_LEFT BACKWHEELHOUSE_RIGHT BACK_BUMPER BID_FLAG BONGIN_CHECK BONGIN_CHECKNM BONNET BPILLER_LEFT
	BPILLER_RIGHT BREAKOILLEAKAGE BREAKOILQUANTITY CARNUM_CHECK CARNUM_CHECKNM CAR_LOCT_CD CAR_LOCT_DETAIL
	CAR_LOCT_NM CAR_USENM CD_MAPNG_VAL1 CD_MAPNG_VAL2 CD_MAPNG_VAL3 CHNG_USR_ID CHOOKJUN_DEVICE CHOOKJUN_DEVICENM
	CLUTCHASSEMBLY CMN_BAS_CD CMN_CD CMN_CD_NM COMPANY_CEO COMPANY_NAME COMPANY_NM COMPRESSION COOL_COOLER
	COOL_CYLINDERBLOCK COOL_CYLINDERHEAD COOL_LINE COOL_QUANTITY COOL_WATERPUMP CROSSMEMBER CRT_USR_ID CR_NUMBER
	CSCD CVJOINT DISTRIBUTINGDEVICE DOCU_PERIOD DONGHWA_DEVICE DONGHWA_DEVICENM DONGRUK_DEVICE DONGRUK_DEVICENM
	DOOR_CD EMISSIONS_CO EMISSIONS_HC EMISSIONS_SOOT ENGDISPMNT ENGE_DVS ENTRY_TYPE FLOORPANEL FOREIGN
	FRONTDASHPANEL FRONTDOOR_LEFT FRONTDOOR_RIGHT FRONTFENDER_LEFT FRONTFENDER_RIGHT FRONTPANEL
	FRONTSIDEMEMBER_LEFT FRONTSIDEMEMBER_RIGHT FRONTWHEELHOUSE_LEFT FRONTWHEELHOUSE_RIGHT FRONT_BUMPER FRONT_GLASS
	FUELLEAK GENERATOROUTPUT GIGAN_DEVICE GIGAN_DEVICENM GRADE HEADLIGHT HOPE_PRICE ILLEGAL_CHANGE_YN
	INDOORAIRMOTOR INSIDEPANEL_LEFT INSIDEPANEL_RIGHT INTERIOR_DEVICENM JEDONG_DEVICE JEDONG_DEVICENM JINDANCD
	JOHANG_DEVICE JOHANG_DEVICENM JUHANG_DEVICE JUHANG_DEVICENM LANE_TYPE LOOP_PANEL MT_GEARTRASMISSION
	MT_OILLEAKAGE MT_OILQUANTITY MT_OPERATION NOTE OILFLOW OIL_CYLINDERBLOCK OIL_CYLINDERHEAD OPERATION
	OPERATION_STEERINGGEAR OPERATION_STEERINGPUMP OPERATION_TIERODEND OPTION_CD OPTION_DATA OPTION_NM PRESSUREPUMP
	PWOILLEAKAGE QUARTERPANEL_LEFT QUARTERPANEL_RIGHT RADIATORFANMOTOR REARPANEL RPST_NM RSTR_BIDDING_CD
	SALES_TYPE SAMENESS SCSBID_PRC SELF_MOTO SELF_TRANS SHAFT SHOCK SIDESILL_LEFT SIDESILL_RIGHT START_PRICE
	TIME_DIFF TITLE TRUNK TRUNK_FLOORPANEL TURNSIGNALLAMP TYP VALI_END_DTM VALI_START_DTM VIN WARRANTY WATER_YN
	WINDOWMOTOR WIPERMOTOR i_sReturnPars i_sReturnUrl message messageYn mobileDeviceYn pageIdx rowsPerPage
	s_BID_AGREE s_BLACKLIST_YN s_COMPANY_TYPE s_LANG_CD s_USER_CD s_USER_ID s_USER_NAME s_USER_STATUS
	s_USER_TYPE`)

func kcarRow(l *kcarLot, now time.Time, pageType string, drift bool) map[string]any {
	row := make(map[string]any, 240)
	for _, k := range kcarEmpty {
		row[k] = ""
	}
	a := kcarAuctions[l.auction]
	st := l.state(now)
	mk, fuel := kcarMakes[l.m.make_], kcarFuels[l.fuel]
	gear := [2]string{"001", "오토"}
	if !l.auto {
		gear = [2]string{"002", "수동"}
	}
	site := kcarSites[l.lane]
	hope := 0
	if l.priceWon > 0 {
		hope = l.priceWon + 200_000
	}
	use := [2]string{"C040", "상품"}
	if l.rental {
		use = [2]string{"C020", "렌트"}
	}
	title := l.m.make_ + " " + l.gen + " " + l.trim + " " + l.sub
	if mk[1] != l.m.make_ {
		title = mk[1] + " " + l.gen + " " + l.trim + " " + l.sub
	}
	diag := "무사고"
	if l.letter != "A" {
		diag = "앞펜더(좌),본네트,"
	}
	thumb := fmt.Sprintf("%s/%s/%s%04dab_370.JPG", l.carID[2:6], l.carID, l.carID, l.rnum)
	for k, v := range map[string]string{
		"ALARM_YN": "N", "AUC_CD": a.code, "AUC_PLC_CD": site[0], "AUC_PLC_NM": site[1],
		"AUC_RESULT": "N", "AUC_STAT": kcarStates[st][0], "AUC_STAT_NM": kcarStates[st][1],
		"AUC_STRT_DT":           a.start.Format("20060102"),
		"AUC_STRT_END_DATETIME": a.start.Format("2006-01-02 15:04") + "~" + a.end().Format("2006-01-02 15:04"),
		"AUC_STRT_HOPE":         strconv.Itoa(hope), "AUC_STRT_PRC": strconv.Itoa(l.priceWon), "AUC_TYPE_DESC": "WEEKLY",
		"CARMD_CD": "004", "CAR_ID": l.carID, "CAR_LOCT": site[1], "CAR_LOCT2": site[1], "CAR_LOCT3": site[0],
		"CAR_NM": title, "CAR_POINT": strconv.Itoa(l.point), "CAR_POINT2": l.letter, "CAR_PPS_CD": use[0],
		"CAR_STAT_CD": "C020", "CAR_USE_NM": use[1], "CHNG_DTL_DTTM": a.start.Add(-48 * time.Hour).Format("20060102150405"),
		"CNO": l.plate, "COLOR_CD": kcarColors[l.kcolor], "CRT_DTL_DTTM": l.created.Format("20060102150405"),
		"DRCMGT_CSGMT_DCD": "C020", "EXBIT_SEQ": strconv.Itoa(l.no), "EXTERIOR_COLOR_NM": l.kcolor,
		"EX_CNT": strconv.Itoa(1 + l.rnum%14), "FORM_YR": strconv.Itoa(l.year),
		"FST_REG_DT": fmt.Sprintf("%06d%02d", l.regYM, 1+l.id%28), "FUEL_CD": fuel[0], "FUEL_TYPE_NM": fuel[1],
		"GBOX_DCD": gear[0], "GBOX_EMPHASIS": "N", "GRD_LCSF_CD": "001", "GRD_LCSF_NM": l.trim,
		"GRD_SCSF_CD": "", "GRD_SCSF_NM": l.sub, "INSTRUMENT": "Y", "INTEREST_YN": "N", "JINDAN_EX_LIST": diag,
		"MILG": strconv.Itoa(l.km), "MNUFTR_CD": mk[0], "MNUFTR_NM": mk[1], "MODEL_CD": "001", "MODEL_GRP_CD": "001",
		"MODEL_NM": l.gen, "MOGE_CNT": "0", "PARKING_NUMBER": "출품장" + l.lane + "열", "RNUM": strconv.Itoa(l.rnum),
		"SZR_CNT": "0", "THUMBNAIL": thumb, "THUMBNAIL_MOBILE": strings.Replace(thumb, "_370", "_640", 1),
		"TRANS_MISSION_NM": gear[1], "TRCK_YN": "N", "TYPE_NM": "위탁",
		"UNQUS": "★렌트사위탁차량★차량 내/외관 상태 및 세부등급 사진참조★이전서류15일소요★",
	} {
		row[k] = v
	}
	if l.sub != "" && l.sub != "세부등급 없음" {
		row["GRD_SCSF_CD"] = "001"
	}
	if st == "sold" {
		row["AUC_RESULT"], row["SCSBID_PRC"] = "Y", strconv.Itoa(l.hammer)
	}
	if pageType == "wRst" && st != "" && st != "live" {
		row["AUC_RESULT_DT"] = a.end().Format("20060102")
	}
	row["CMN_CD_CNT"], row["pageCalc"], row["totalCount"] = 0, 0, 0
	if drift {
		row["MILEAGE"] = row["MILG"]
		delete(row, "MILG")
	}
	return row
}
