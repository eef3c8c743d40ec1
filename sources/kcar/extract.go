package kcar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Lot is one exhibit of the list: a car put up at one auction.
type Lot struct {
	Vehicle  vehicle.Vehicle
	CarID    string    // CAR_ID, "CA20373705": the car record; photos and the detail page are keyed by it
	AucCode  string    // AUC_CD, "AC20260409": the auction, opaque (it is not the date)
	Lane     string    // the lane it was listed in: the rows leave LANE_TYPE empty
	SiteCode string    // AUC_PLC_CD
	Ends     time.Time // end of the bidding window, Korean time
}

// List is one decoded list answer.
type List struct {
	Echo Echo
	Lots []Lot
}

// Echo is what the server says it answered (auctionReqVo): the request as
// it resolved it.
type Echo struct {
	AucType  string // "weekly"
	PageType string // "wCfm"
	Lane     string // "B"
	StartRow int    // START_RNUM as echoed
	EndRow   int    // END_RNUM
	PageSize int    // PAGE_CNT
}

// PublicBase is the site members open in a browser. A lot's photo and
// source_url point there, whatever base the crawler was configured with.
const PublicBase = "https://www.kcarauction.com"

// DetailURL is the address of a lot's detail page.
func DetailURL(l Lot, pageType string) string {
	q := url.Values{"PAGE_TYPE": {pageType}, "CAR_ID": {l.CarID}, "AUC_CD": {l.AucCode}}
	return PublicBase + "/kcar/auction/weekly_detail/auction_detail_view.do?" + q.Encode()
}

// IDPattern is the exact pattern of a K Car row id: the auction code in
// lower case and the exhibit number (SPEC §3.2).
var IDPattern = regexp.MustCompile(`^kcar_[a-z]{2}[0-9]{8}_[1-9][0-9]{0,4}$`)

// ID is the id of the lot with exhibit number n at auction code.
func ID(aucCode string, n int) string {
	return "kcar_" + strings.ToLower(aucCode) + "_" + strconv.Itoa(n)
}

var (
	aucCodeRe = regexp.MustCompile(`^[A-Z]{2}[0-9]{8}$`)
	statCdRe  = regexp.MustCompile(`^[A-Z]{2}[0-9]{3}$`)
	carIDRe   = regexp.MustCompile(`^[A-Z]{2}[0-9]{6,12}$`)
	digitsRe  = regexp.MustCompile(`^[0-9]+$`)
	windowRe  = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2} \d{2}:\d{2})\s*~\s*(\d{4}-\d{2}-\d{2} \d{2}:\d{2})$`)
)

// statuses maps AUC_STAT_NM, the lot status word, to the contract's
// auction status. 출품마감 (entries closed, auction not yet run) is the only
// word seen in a real answer; the others are the words public clients of
// the site know. A cancelled lot (취소) did not sell: as Glovis' cancelled
// sales, it is no_bid. A word not here is drift: calling an unsold car
// upcoming would tell partners it is still to be auctioned.
var statuses = map[string]string{
	"출품마감": vehicle.AuctionUpcoming,
	"경매대기": vehicle.AuctionUpcoming,
	"경매진행": vehicle.AuctionUpcoming,
	"진행중":  vehicle.AuctionUpcoming,
	"낙찰":   vehicle.AuctionSold,
	"유찰":   vehicle.AuctionNoBid,
	"불낙":   vehicle.AuctionNoBid,
	"취소":   vehicle.AuctionNoBid,
}

// fuelCodes and gearCodes are the site's codes, for rows whose name the
// dictionary lacks; names and codes that disagree are drift.
var (
	fuelCodes = map[string]string{"001": vehicle.FuelGasoline, "002": vehicle.FuelDiesel, "003": vehicle.FuelLPG,
		"006": vehicle.FuelHybrid, "009": vehicle.FuelElectric}
	gearCodes = map[string]string{"001": vehicle.TransmissionAuto, "002": vehicle.TransmissionManual}
)

// colorUnknown is COLOR_CD 999 / 기타 ("other"): the site does not say.
const colorUnknown = "999"

// noSubGrade is what GRD_SCSF_NM says when a car has no sub-trim.
const noSubGrade = "세부등급 없음"

// answer is the list answer's shape: both parts must be there.
type answer struct {
	Echo    map[string]json.RawMessage    `json:"auctionReqVo"`
	CarList *[]map[string]json.RawMessage `json:"CAR_LIST"`
}

// ExtractList reads a list answer. lane is the lane that was asked for
// (the rows do not say theirs); "" takes the lane the answer echoes. A body
// that is not JSON is the site refusing the call: its login page is
// ErrLogin, any other page (a WAF's) ErrBlocked. JSON without CAR_LIST or
// auctionReqVo, a row without a field every row has had, a field of
// another type, a value in a form never seen, an unknown status word: all
// are ErrDrift naming the row and field, never a row with a zero in it.
// An answer with no rows is a success with zero lots.
func ExtractList(body []byte, lane string) (*List, error) {
	if err := checkBody(body); err != nil {
		return nil, err
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, sources.Drift("list answer: %v", err)
	}
	switch {
	case a.Echo == nil:
		return nil, sources.Drift("missing auctionReqVo")
	case a.CarList == nil:
		return nil, sources.Drift("missing CAR_LIST")
	}
	echo, err := readEcho(a.Echo)
	if err != nil {
		return nil, err
	}
	if lane == "" {
		lane = echo.Lane
	}
	if echo.Lane != lane {
		return nil, sources.Drift("answer is for lane %q, lane %q was asked", echo.Lane, lane)
	}
	out := &List{Echo: echo, Lots: make([]Lot, 0, len(*a.CarList))}
	seen := make(map[int]bool, len(*a.CarList))
	for i, raw := range *a.CarList {
		lot, err := lotFrom(row(raw), lane, echo.PageType)
		if err != nil {
			return nil, fmt.Errorf("CAR_LIST[%d]: %w", i, err)
		}
		if seen[lot.Vehicle.Auction.LotNumber] {
			return nil, sources.Drift("CAR_LIST[%d]: exhibit number %d twice in one answer", i, lot.Vehicle.Auction.LotNumber)
		}
		seen[lot.Vehicle.Auction.LotNumber] = true
		out.Lots = append(out.Lots, lot)
	}
	sources.NoteMissingFields(vehicle.KCar, len(out.Lots), func(i int) *vehicle.Vehicle { return &out.Lots[i].Vehicle }, optional)
	return out, nil
}

// optional are the row values a lot may lack; empty on every lot of a big
// answer, they are counted (sources.NoteMissing).
var optional = []sources.Optional{
	{Name: "fuel", Empty: func(v *vehicle.Vehicle) bool { return v.Fuel == "" }},
	{Name: "transmission", Empty: func(v *vehicle.Vehicle) bool { return v.Transmission == "" }},
	{Name: "color", Empty: func(v *vehicle.Vehicle) bool { return v.Color == "" }},
	{Name: "grade", Empty: func(v *vehicle.Vehicle) bool { return v.AccidentGrade == "" }},
	{Name: "plate", Empty: func(v *vehicle.Vehicle) bool { return v.LicensePlate == "" }},
	{Name: "photo", Empty: func(v *vehicle.Vehicle) bool { return v.PhotoURL == "" }},
	{Name: "first_registration", Empty: func(v *vehicle.Vehicle) bool { return v.FirstRegistration == "" }},
}

// checkBody tells a page from JSON. The site answers an expired session
// with its login page (or a redirect to it), and its WAF with a page of
// its own, both with status 200.
func checkBody(body []byte) error {
	t := bytes.TrimSpace(body)
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return nil
	}
	if len(t) == 0 {
		return sources.Drift("empty answer")
	}
	if bytes.Contains(t, []byte("user_login")) || bytes.Contains(t, []byte("login.do")) {
		return fmt.Errorf("%w: the list answered with the login page", sources.ErrLogin)
	}
	if t[0] == '<' {
		return fmt.Errorf("%w: the list answered with an HTML page", sources.ErrBlocked)
	}
	return sources.Drift("answer is not JSON")
}

func readEcho(e map[string]json.RawMessage) (Echo, error) {
	r := row(e)
	var out Echo
	var err error
	if out.AucType, err = r.str("AUC_TYPE", true); err != nil {
		return Echo{}, fmt.Errorf("auctionReqVo: %w", err)
	}
	if out.PageType, err = r.str("PAGE_TYPE", true); err != nil {
		return Echo{}, fmt.Errorf("auctionReqVo: %w", err)
	}
	if out.Lane, err = r.str("LANE_TYPE", false); err != nil {
		return Echo{}, fmt.Errorf("auctionReqVo: %w", err)
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"START_RNUM", &out.StartRow}, {"END_RNUM", &out.EndRow}, {"PAGE_CNT", &out.PageSize}} {
		if *f.dst, err = r.num(f.name); err != nil {
			return Echo{}, fmt.Errorf("auctionReqVo: %w", err)
		}
	}
	return out, nil
}

// row is one JSON object of the answer, read field by field.
type row map[string]json.RawMessage

// str returns the trimmed string value of key. A key that is not there,
// or holds anything but a string, is drift; so is an empty value when
// required.
func (r row) str(key string, required bool) (string, error) {
	raw, ok := r[key]
	if !ok {
		return "", sources.Drift("missing field %s", key)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", sources.Drift("field %s is %s, not a string", key, clip(raw))
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", sources.Drift("field %s is empty", key)
	}
	return s, nil
}

// num reads an integer field the answer sends as a JSON number.
func (r row) num(key string) (int, error) {
	raw, ok := r[key]
	if !ok {
		return 0, sources.Drift("missing field %s", key)
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, sources.Drift("field %s is %s, not a whole number", key, clip(raw))
	}
	return n, nil
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// fields are the row's values this extractor reads, by name; each row
// must have every one of them as a string (possibly empty where the
// meaning allows).
type fields struct {
	carID, exbit, aucCode, aucDate, window           string
	plcCode, plcName                                 string
	makeName, modelName, grdL, grdS                  string
	year, firstReg, milg, cc                         string
	fuelCd, fuelNm, gboxCd, gboxNm, colorCd, colorNm string
	plate, price, stat, statNm, result               string
	point, point2, thumb, created, rowLane           string
}

func readFields(r row) (fields, error) {
	var f fields
	for _, x := range []struct {
		key      string
		dst      *string
		required bool
	}{
		{"CAR_ID", &f.carID, true}, {"EXBIT_SEQ", &f.exbit, true}, {"AUC_CD", &f.aucCode, true},
		{"AUC_STRT_DT", &f.aucDate, true}, {"AUC_STRT_END_DATETIME", &f.window, true},
		{"AUC_PLC_CD", &f.plcCode, false}, {"AUC_PLC_NM", &f.plcName, true},
		{"MNUFTR_NM", &f.makeName, true}, {"MODEL_NM", &f.modelName, true},
		{"GRD_LCSF_NM", &f.grdL, false}, {"GRD_SCSF_NM", &f.grdS, false},
		{"FORM_YR", &f.year, true}, {"FST_REG_DT", &f.firstReg, false}, {"MILG", &f.milg, true},
		{"ENGDISPMNT", &f.cc, false},
		{"FUEL_CD", &f.fuelCd, false}, {"FUEL_TYPE_NM", &f.fuelNm, false},
		{"GBOX_DCD", &f.gboxCd, false}, {"TRANS_MISSION_NM", &f.gboxNm, false},
		{"COLOR_CD", &f.colorCd, false}, {"EXTERIOR_COLOR_NM", &f.colorNm, false},
		{"CNO", &f.plate, false}, {"AUC_STRT_PRC", &f.price, true},
		{"AUC_STAT", &f.stat, true}, {"AUC_STAT_NM", &f.statNm, true}, {"AUC_RESULT", &f.result, true},
		{"CAR_POINT", &f.point, false}, {"CAR_POINT2", &f.point2, false},
		{"THUMBNAIL", &f.thumb, false}, {"CRT_DTL_DTTM", &f.created, false}, {"LANE_TYPE", &f.rowLane, false},
	} {
		v, err := r.str(x.key, x.required)
		if err != nil {
			return fields{}, err
		}
		*x.dst = v
	}
	return f, nil
}

func lotFrom(r row, lane, pageType string) (Lot, error) {
	f, err := readFields(r)
	if err != nil {
		return Lot{}, err
	}
	if f.rowLane != "" && f.rowLane != lane {
		return Lot{}, sources.Drift("row of lane %q in the answer for lane %q", f.rowLane, lane)
	}
	if !carIDRe.MatchString(f.carID) {
		return Lot{}, sources.Drift("CAR_ID %q", f.carID)
	}
	if !aucCodeRe.MatchString(f.aucCode) {
		return Lot{}, sources.Drift("AUC_CD %q is not two letters and eight digits", f.aucCode)
	}
	lotNo, err := whole(f.exbit, "EXBIT_SEQ")
	if err != nil {
		return Lot{}, err
	}
	if lotNo < 1 || lotNo > 99999 {
		return Lot{}, sources.Drift("EXBIT_SEQ %d", lotNo)
	}
	site, ok := korean.KCarSite(f.plcCode, f.plcName)
	if !ok {
		return Lot{}, sources.Drift("unknown auction site %s/%q", f.plcCode, f.plcName)
	}
	start, end, err := window(f.aucDate, f.window)
	if err != nil {
		return Lot{}, err
	}
	year, err := whole(f.year, "FORM_YR")
	if err != nil {
		return Lot{}, err
	}
	if err := sources.CheckYear(year); err != nil {
		return Lot{}, err
	}
	km, err := whole(f.milg, "MILG")
	if err != nil {
		return Lot{}, err
	}
	if err := sources.CheckMileage(float64(km)); err != nil {
		return Lot{}, err
	}
	price, err := startPrice(f.price)
	if err != nil {
		return Lot{}, err
	}
	status, err := lotStatus(f.stat, f.statNm, f.result)
	if err != nil {
		return Lot{}, err
	}
	fuel, err := coded(f.fuelNm, f.fuelCd, fuelCodes, korean.KindFuel, korean.Fuel, "fuel")
	if err != nil {
		return Lot{}, err
	}
	gear, err := coded(f.gboxNm, f.gboxCd, gearCodes, korean.KindTransmission, korean.Transmission, "gearbox")
	if err != nil {
		return Lot{}, err
	}
	accident, exterior, err := grades(f.point2, f.point)
	if err != nil {
		return Lot{}, err
	}
	reg, err := firstRegistration(f.firstReg)
	if err != nil {
		return Lot{}, err
	}
	cc := 0
	if f.cc != "" {
		if cc, err = displacement(f.cc); err != nil {
			return Lot{}, err
		}
	}
	listed := time.Time{}
	if f.created != "" {
		if listed, err = time.ParseInLocation("20060102150405", f.created, vehicle.KST); err != nil {
			return Lot{}, sources.Drift("CRT_DTL_DTTM %q is not YYYYMMDDhhmmss", f.created)
		}
	}
	lot := Lot{CarID: f.carID, AucCode: f.aucCode, Lane: lane, SiteCode: f.plcCode, Ends: end}
	v := vehicle.Vehicle{
		ID:                ID(f.aucCode, lotNo),
		Source:            vehicle.KCar,
		Year:              year,
		MileageKm:         km,
		Fuel:              fuel,
		Transmission:      gear,
		Color:             color(f.colorNm, f.colorCd),
		EngineCC:          cc,
		Options:           []string{},
		AccidentGrade:     accident,
		ExteriorGrade:     exterior,
		PriceKRW:          price,
		ListedAt:          listed,
		LicensePlate:      f.plate,
		FirstRegistration: reg,
		Seller:            &vehicle.Seller{Type: "auction", Name: "K Car", Region: site},
		Auction:           &vehicle.Auction{Date: start, Site: site, LotNumber: lotNo, Status: status, Count: 1},
	}
	if v.Fuel == vehicle.FuelElectric {
		v.EngineCC = 0
	}
	if f.thumb != "" {
		v.PhotoURL = PublicBase + "/auction/IMAGE_UPLOAD/CAR/" + f.thumb
	}
	v.Make, v.Model, v.Trim = names(f.makeName, f.modelName, f.grdL, f.grdS)
	v.Drivetrain = korean.Drivetrain(v.Trim)
	lot.Vehicle = v
	lot.Vehicle.SourceURL = DetailURL(lot, pageType)
	return lot, nil
}

// whole reads a plain whole number ("136135"); grouped or signed forms
// are not what the answer sends, so they are drift.
func whole(s, field string) (int, error) {
	if !digitsRe.MatchString(s) || len(s) > 12 {
		return 0, sources.Drift("%s %q is not a whole number", field, s)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, sources.Drift("%s %q: %v", field, s, err)
	}
	return n, nil
}

// window reads the auction date (YYYYMMDD) and its bidding window
// ("2026-04-30 13:00~2026-04-30 18:00"), Korean time. The window must
// open on the auction date and close after it opens.
func window(date, w string) (start, end time.Time, err error) {
	day, err := time.ParseInLocation("20060102", date, vehicle.KST)
	if err != nil {
		return time.Time{}, time.Time{}, sources.Drift("AUC_STRT_DT %q is not YYYYMMDD", date)
	}
	m := windowRe.FindStringSubmatch(w)
	if m == nil {
		return time.Time{}, time.Time{}, sources.Drift("AUC_STRT_END_DATETIME %q is not \"YYYY-MM-DD hh:mm~YYYY-MM-DD hh:mm\"", w)
	}
	start, err1 := time.ParseInLocation("2006-01-02 15:04", m[1], vehicle.KST)
	end, err2 := time.ParseInLocation("2006-01-02 15:04", m[2], vehicle.KST)
	switch {
	case err1 != nil || err2 != nil:
		return time.Time{}, time.Time{}, sources.Drift("AUC_STRT_END_DATETIME %q is not a time window", w)
	case start.Format("20060102") != day.Format("20060102"):
		return time.Time{}, time.Time{}, sources.Drift("bidding window %q does not open on the auction date %s", w, date)
	case !end.After(start):
		return time.Time{}, time.Time{}, sources.Drift("bidding window %q closes before it opens", w)
	}
	return start, end, nil
}

// startPrice reads AUC_STRT_PRC, in won. "0" is a start price the site
// has not published: unknown (0 is the model's unknown price, sorted last
// and never matching a price filter), not a free car. A price outside the
// plausible range is drift: a value in 만원 (1420 for 14,200,000 won) is
// far below any car.
func startPrice(s string) (int64, error) {
	n, err := whole(s, "AUC_STRT_PRC")
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if err := sources.CheckPrice(float64(n)); err != nil {
		return 0, fmt.Errorf("AUC_STRT_PRC: %w", err)
	}
	return int64(n), nil
}

// lotStatus maps the status word (see statuses) and checks it against
// the result flag: AUC_RESULT is N before the auction; Y is taken as a
// sale and must come with a sold status. Any other flag is drift.
func lotStatus(code, name, result string) (string, error) {
	if !statCdRe.MatchString(code) {
		return "", sources.Drift("AUC_STAT %q", code)
	}
	st, ok := statuses[strings.ReplaceAll(name, " ", "")]
	if !ok {
		return "", sources.Drift("unknown lot status %s/%q", code, name)
	}
	switch result {
	case "N":
	case "Y":
		if st != vehicle.AuctionSold {
			return "", sources.Drift("AUC_RESULT Y with status %q", name)
		}
	default:
		return "", sources.Drift("unknown AUC_RESULT %q", result)
	}
	return st, nil
}

// coded maps a value the row gives as a name and a code: by name first,
// else by code. Both known and disagreeing is drift; a name the
// dictionary lacks with a code the table lacks is unknown, counted as a
// dictionary miss.
func coded(name, code string, codes map[string]string, kind korean.Kind, translate func(string) (string, bool), what string) (string, error) {
	byCode, codeOK := codes[code]
	if name != "" && korean.Known(kind, name) {
		byName, _ := translate(name)
		if codeOK && byName != byCode {
			return "", sources.Drift("%s %q is %s but its code %s is %s", what, name, byName, code, byCode)
		}
		return byName, nil
	}
	if codeOK {
		return byCode, nil
	}
	if name != "" {
		korean.Miss(kind)
	}
	return "", nil
}

// color reads the exterior colour. 999/기타 means the site does not say:
// unknown, not a dictionary miss.
func color(name, code string) string {
	if code == colorUnknown || name == "기타" {
		return ""
	}
	c, _ := korean.Color(name)
	return c
}

// grades maps K Car's condition score ("A2": CAR_POINT2 letter, CAR_POINT
// number) onto the contract's grades; see the README ("K Car") for the
// rule. The letter is the structural (accident) grade and is kept as it
// is; the number runs 1..8 with 8 best (the reverse of Glovis) and folds
// onto A..F as Glovis' does once turned around: 8-7 A, 6-5 B, 4-3 C, 2 D,
// 1 F. No score at all is ungraded; half a score, a letter outside A..F or
// a number outside 1..8 is drift.
func grades(letter, number string) (accident, exterior string, err error) {
	switch {
	case letter == "" && number == "":
		return "", "", nil
	case len(letter) != 1 || letter[0] < 'A' || letter[0] > 'F' || letter == "E":
		return "", "", sources.Drift("CAR_POINT2 %q is not a grade letter", letter)
	}
	n, err := whole(number, "CAR_POINT")
	if err != nil {
		return "", "", err
	}
	if n < 1 || n > 8 {
		return "", "", sources.Drift("CAR_POINT %d is outside 1..8", n)
	}
	return letter, ExteriorGrade(n), nil
}

// ExteriorGrade is the contract's exterior grade of a K Car score number.
func ExteriorGrade(n int) string {
	return [...]string{"", "F", "D", "C", "C", "B", "B", "A", "A"}[n]
}

// firstRegistration reads FST_REG_DT (YYYYMMDD) as YYYY-MM.
func firstRegistration(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	d, err := time.Parse("20060102", s)
	if err != nil {
		return "", sources.Drift("FST_REG_DT %q is not YYYYMMDD", s)
	}
	return d.Format("2006-01"), nil
}

// displacement reads ENGDISPMNT, empty in every list row seen; the detail
// page writes "4,395cc".
func displacement(s string) (int, error) {
	n, ok := sources.Quantity(strings.ToLower(strings.ReplaceAll(s, " ", "")), "", "cc")
	if !ok {
		if n, ok = sources.Quantity(s, "", ""); !ok {
			return 0, sources.Drift("ENGDISPMNT %q is not a number of cc", s)
		}
	}
	return n, nil
}

// names gives the English make and model and the trim. The model is
// found in MODEL_NM ("E-클래스 W213", "포터2 CRDi 카고"); the trim is what
// follows it there, then the grade names (GRD_LCSF_NM, GRD_SCSF_NM), so
// "카고" and "12인승" stay visible to body_style. Raw text the dictionary
// lacks is kept, and the miss counted.
func names(makeName, modelName, grdL, grdS string) (mk, model, trim string) {
	if grdS == noSubGrade {
		grdS = ""
	}
	grade := strings.Join(strings.Fields(grdL+" "+grdS), " ")
	m, ok := korean.MakeByName(makeName)
	if !ok {
		korean.Miss(korean.KindMake)
		return makeName, modelName, grade
	}
	md, rest, ok := m.SplitModel(modelName)
	if !ok {
		korean.Miss(korean.KindModel)
		return m.English, strings.Join(strings.Fields(modelName), " "), grade
	}
	return m.English, md.English, strings.Join(strings.Fields(rest+" "+grade), " ")
}
