// Package korean translates the Korean values upstream pages carry (makes,
// model groups, fuels, transmissions, colours, auction sites) into the English
// values of the public contract, and back again to build upstream queries.
//
// A value it does not know is never dropped and never guessed: lookups return
// ok=false, callers keep the raw text, and the miss is counted per kind so
// on-call can see the dictionary falling behind the sites.
package korean

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/lmn/aggregator/vehicle"
)

// Make is one manufacturer and its model groups.
type Make struct {
	English     string
	Korean      string   // Encar's manufacturer name
	Aliases     []string // other spellings in Danawa titles and Glovis brackets
	Domestic    bool     // Encar CarType.Y
	DanawaBrand string
	Models      []Model
}

// Model is one model group ("Sorento" covers every Sorento generation).
type Model struct {
	English      string
	Korean       string
	Aliases      []string
	DanawaSeries string
}

// Kind names a dictionary the miss counters are kept for.
type Kind int

const (
	KindMake Kind = iota
	KindModel
	KindFuel
	KindTransmission
	KindColor
	KindOption
	numKinds
)

var kindNames = [numKinds]string{"make", "model", "fuel", "transmission", "color", "option"}

func (k Kind) String() string { return kindNames[k] }

var unmapped [numKinds]atomic.Int64

// Unmapped returns how many values of each kind could not be translated since
// the process started. The keys are bounded: one per Kind.
func Unmapped() map[string]int64 {
	m := make(map[string]int64, numKinds)
	for k := range numKinds {
		m[k.String()] = unmapped[k].Load()
	}
	return m
}

// Miss records a value of kind k that the dictionary does not know.
func Miss(k Kind) { unmapped[k].Add(1) }

// fold normalises text for matching: spaces dropped, ASCII upper-cased, so
// that "더 뉴 그랜저 IG", "더뉴그랜저IG" and "모델 3" / "모델3" compare alike.
// Invalid UTF-8 comes out as U+FFFD.
func fold(s string) string {
	if folded(s) {
		return s // most upstream words (가솔린, 오토, 부산): no copy
	}
	return string(appendFold(make([]byte, 0, len(s)), s))
}

// appendFold appends s folded to dst. Callers that only look the result up
// fold into a buffer on their stack: m[string(b)] does not copy b.
func appendFold(dst []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0':
		case r >= 'a' && r <= 'z':
			dst = append(dst, byte(r-'a'+'A'))
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// folded says whether fold(s) is s.
func folded(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || 'a' <= c && c <= 'z':
			return false
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0xa0: // U+00A0 in valid UTF-8
			return false
		}
	}
	return utf8.ValidString(s)
}

type index struct {
	models    map[*Model][]string // each model's spellings, joined (see match.go)
	byKorean  map[string]*Make    // folded Korean name and aliases
	byEnglish map[string]*Make    // lower-case English name
	prefixes  []prefix            // every make spelling, longest first
}

type prefix struct {
	text string // folded
	make *Make
}

var (
	idxOnce sync.Once
	idx     index
)

func load() *index {
	idxOnce.Do(func() {
		idx.byKorean = map[string]*Make{}
		idx.models = map[*Model][]string{}
		idx.byEnglish = map[string]*Make{}
		for i := range catalogue {
			m := &catalogue[i]
			idx.byEnglish[strings.ToLower(m.English)] = m
			for j := range m.Models {
				md := &m.Models[j]
				for _, sp := range append([]string{md.Korean, md.English}, md.Aliases...) {
					idx.models[md] = append(idx.models[md], joined(sp))
				}
			}
			for _, s := range append([]string{m.Korean, m.English}, m.Aliases...) {
				idx.byKorean[fold(s)] = m
				idx.prefixes = append(idx.prefixes, prefix{fold(s), m})
			}
		}
		for _, s := range slices.Sorted(maps.Keys(makeSpellings)) { // sorted: ties of length keep one order
			if m, ok := idx.byEnglish[strings.ToLower(makeSpellings[s])]; ok {
				idx.byKorean[fold(s)] = m
				idx.prefixes = append(idx.prefixes, prefix{fold(s), m})
			}
		}
		sortLongestFirst(idx.prefixes, func(p prefix) string { return p.text })
	})
	return &idx
}

func sortLongestFirst[T any](s []T, key func(T) string) {
	// Length in characters, not bytes: a Hangul syllable is three bytes.
	// Insertion order is kept among equal lengths so the catalogue decides ties.
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && utf8.RuneCountInString(key(s[j])) > utf8.RuneCountInString(key(s[j-1])); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Makes returns the catalogue, in its own order.
func Makes() []Make { return catalogue }

// MakeByName finds a make by any of its spellings, Korean or English.
func MakeByName(name string) (*Make, bool) {
	m, ok := load().byKorean[fold(name)]
	return m, ok
}

// MakeByEnglish finds a make by its English name, case-insensitively.
func MakeByEnglish(name string) (*Make, bool) {
	m, ok := load().byEnglish[strings.ToLower(strings.TrimSpace(name))]
	return m, ok
}

// MakePrefix finds the make a title starts with, trying the longest spellings
// first so that "KG모빌리티(쌍용) 토레스" is KG Mobility and not a shorter
// make that happens to be a prefix. It returns the rest of the title.
func MakePrefix(title string) (m *Make, rest string, ok bool) {
	title = strings.TrimSpace(title)
	ft := fold(title)
	for _, p := range load().prefixes {
		if strings.HasPrefix(ft, p.text) {
			return p.make, strings.TrimSpace(cutFolded(title, len([]rune(p.text)))), true
		}
	}
	return nil, title, false
}

// cutFolded drops the first n non-space runes of s.
func cutFolded(s string, n int) string {
	for i, r := range s {
		if n == 0 {
			return s[i:]
		}
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' && r != '\u00a0' {
			n--
		}
	}
	return ""
}

// ModelIn finds the model group named in text ("더 올뉴G80 가솔린" is a
// G80) by whole tokens. The longest spelling in characters wins, so
// "아이오닉 6" is an Ioniq 6 and not an Ioniq; then the earliest in the text;
// then the catalogue's order.
func (m *Make) ModelIn(text string) (*Model, bool) {
	md, _, ok := m.modelMatch(text)
	return md, ok
}

// matchModel does the work of modelMatch, which remembers its answers.
func (m *Make) matchModel(text string) (*Model, match, bool) {
	toks := tokens(text)
	spellings := load().models
	var best *Model
	var bestAt match
	for i := range m.Models {
		md := &m.Models[i]
		for _, sp := range spellings[md] {
			if at, ok := find(toks, sp); ok && (best == nil || better(at, bestAt)) {
				best, bestAt = md, at
			}
		}
	}
	return best, bestAt, best != nil
}

// SplitModel finds the model group in a title remainder such as
// "더 올뉴G80 가솔린 2.5 AWD 기본형" and returns it with the trim: the words
// after the one that completes the model's name ("가솔린 2.5 AWD 기본형").
func (m *Make) SplitModel(text string) (*Model, string, bool) {
	md, at, ok := m.modelMatch(text)
	if !ok {
		return nil, strings.TrimSpace(text), false
	}
	// The model's last token may be glued to more text ("쏘나타(DN8)"):
	// the trim starts after that whole word.
	rest := text[at.end:]
	if i := strings.IndexAny(rest, " \t\n\r"); i >= 0 {
		rest = rest[i:]
	} else {
		rest = ""
	}
	return md, strings.Join(strings.Fields(rest), " "), true
}

// ModelByEnglish finds a model group of m by its English name.
func (m *Make) ModelByEnglish(name string) (*Model, bool) {
	for i := range m.Models {
		if strings.EqualFold(m.Models[i].English, strings.TrimSpace(name)) {
			return &m.Models[i], true
		}
	}
	return nil, false
}

// fuels maps every upstream's fuel words: Encar says 가솔린/디젤, Glovis
// says 휘발유/경유.
var fuels = map[string]string{
	"가솔린": vehicle.FuelGasoline, "휘발유": vehicle.FuelGasoline,
	"디젤": vehicle.FuelDiesel, "경유": vehicle.FuelDiesel,
	"LPG": vehicle.FuelLPG, "LPI": vehicle.FuelLPG, "가솔린+LPG": vehicle.FuelLPG,
	"전기":     vehicle.FuelElectric,
	"가솔린+전기": vehicle.FuelHybrid, "하이브리드": vehicle.FuelHybrid, "휘발유하이브리드": vehicle.FuelGasolineHybrid,
	"LPG+전기": vehicle.FuelHybrid,
	"디젤+전기":  vehicle.FuelDieselHybrid, "경유하이브리드": vehicle.FuelDieselHybrid,
	"플러그인하이브리드": vehicle.FuelPlugInHybrid, "가솔린+전기(플러그인)": vehicle.FuelPlugInHybrid,
	"수소": vehicle.FuelHydrogen, "수소전기": vehicle.FuelHydrogen,
}

// Fuel translates an upstream fuel word.
func Fuel(s string) (string, bool) { return lookup(fuels, s, KindFuel) }

var transmissions = map[string]string{
	"오토": vehicle.TransmissionAuto, "A/T": vehicle.TransmissionAuto, "자동": vehicle.TransmissionAuto,
	"세미오토": vehicle.TransmissionAuto,
	"수동":   vehicle.TransmissionManual, "M/T": vehicle.TransmissionManual,
	"CVT": vehicle.TransmissionCVT, "무단변속기": vehicle.TransmissionCVT,
	"DCT": vehicle.TransmissionDCT,
}

// Transmission translates an upstream transmission word.
func Transmission(s string) (string, bool) { return lookup(transmissions, s, KindTransmission) }

// colors maps colour words. Glovis writes short forms (파랑, 빨강, 미색);
// Encar and Danawa write 파란색, 빨간색 and paint names.
var colors = map[string]string{
	"파랑": "blue", "빨강": "red", "미색": "beige", "노랑": "yellow", "초록": "green", "주황": "orange",
	"갈대": "brown", "연두": "green", "연두색": "green", "청록": "green", "청록색": "green", "담녹색": "green",
	"하늘": "blue", "진청": "blue", "진청색": "blue", "감청색": "blue", "은하색": "silver", "흑": "black",
	"검정": "black", "검정색": "black", "흑색": "black", "블랙": "black",
	"흰색": "white", "흰": "white", "백색": "white", "화이트": "white", "진주색": "white", "펄": "white",
	"회색": "gray", "쥐색": "gray", "진회색": "gray", "그레이": "gray", "은회색": "silver",
	"은색": "silver", "실버": "silver",
	"파란색": "blue", "청색": "blue", "하늘색": "blue", "블루": "blue", "남색": "blue",
	"빨간색": "red", "적색": "red", "레드": "red", "와인": "red",
	"갈색": "brown", "브라운": "brown", "갈대색": "brown",
	"녹색": "green", "초록색": "green", "그린": "green",
	"노란색": "yellow", "옐로우": "yellow",
	"주황색": "orange", "오렌지": "orange",
	"베이지": "beige", "베이지색": "beige",
	"금색": "gold", "골드": "gold",
}

// Color translates an upstream colour. Paint names such as
// "NCM)마칼루 그레이" or "ABP)오로라 블랙 펄" are matched on the colour word
// they contain: the longest word in characters, then the earliest in the
// text, then the alphabetically first, so one name always gives one colour.
// "-" and "" mean unknown and are not counted as misses.
func Color(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return "", false
	}
	f := fold(s)
	if c, ok := colors[f]; ok {
		return c, true
	}
	best, bestWord, bestLen, bestAt := "", "", 0, 0
	for k, c := range colors {
		n := utf8.RuneCountInString(k)
		at := strings.Index(f, k)
		if n < 2 || at < 0 {
			continue
		}
		if n > bestLen || n == bestLen && (at < bestAt || at == bestAt && k < bestWord) {
			best, bestWord, bestLen, bestAt = c, k, n, at
		}
	}
	if best != "" {
		return best, true
	}
	Miss(KindColor)
	return "", false
}

func lookup(m map[string]string, s string, k Kind) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return "", false
	}
	var buf [64]byte
	f := appendFold(buf[:0], s)
	if v, ok := m[string(f)]; ok {
		return v, true
	}
	if k == KindFuel {
		if v, ok := m[buyerQualified(string(f))]; ok {
			return v, true
		}
	}
	Miss(k)
	return "", false
}

// sites are Glovis' auction sites by their rc code.
var sites = map[string][2]string{
	"1100": {"분당", "Bundang"},
	"2100": {"시화", "Sihwa"},
	"3100": {"양산", "Yangsan"},
	"5100": {"인천", "Incheon"},
}

// Site returns the English name of a Glovis site code.
func Site(code string) (string, bool) {
	s, ok := sites[code]
	return s[1], ok
}

// SiteCodes lists the Glovis site codes in ascending order.
func SiteCodes() []string { return []string{"1100", "2100", "3100", "5100"} }

// options maps the option names of auction and dealer pages to the
// contract's option tokens. Matching is on the folded name, so "통풍시트(운전석)"
// and "통풍시트(동승석)" are both ventilated_seats.
var options = []struct{ word, token string }{
	{"파노라마선루프", "panoramic_sunroof"},
	{"선루프", "sunroof"},
	{"가죽시트", "leather_seats"},
	{"네비게이션", "navigation"},
	{"내비게이션", "navigation"},
	{"후방카메라", "rear_camera"},
	{"블랙박스", "dashcam"},
	{"열선시트", "heated_seats"},
	{"통풍시트", "ventilated_seats"},
	{"스마트키", "smart_key"},
	{"어라운드뷰", "around_view_monitor"},
	{"헤드업디스플레이", "head_up_display"},
	{"크루즈컨트롤", "cruise_control"},
	{"전자식파킹", "electronic_parking_brake"},
	{"차선이탈경보", "lane_departure_warning"},
	{"후측방경보", "blind_spot_warning"},
}

// Option translates an option name into its token.
func Option(name string) (string, bool) {
	f := fold(name)
	for _, o := range options {
		if strings.HasPrefix(f, o.word) {
			return o.token, true
		}
	}
	Miss(KindOption)
	return "", false
}

// Known reports whether s is a word of kind k's dictionary, without counting
// a miss: extractors use it to tell which column of a page a value is in.
func Known(k Kind, s string) bool {
	s = strings.TrimSpace(s)
	switch k {
	case KindFuel:
		f := fold(s)
		_, ok := fuels[f]
		if !ok {
			_, ok = fuels[buyerQualified(f)]
		}
		return ok
	case KindTransmission:
		_, ok := transmissions[fold(s)]
		return ok
	case KindColor:
		f := fold(s)
		if _, ok := colors[f]; ok {
			return true
		}
		for w := range colors {
			if utf8.RuneCountInString(w) >= 2 && strings.Contains(f, w) {
				return true
			}
		}
	}
	return false
}
