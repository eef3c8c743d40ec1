package encar

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// PhotoBase is where Encar's photo paths live.
const PhotoBase = "https://ci.encar.com/carpicture"

// number accepts what Encar sends for a number: 202211, 202211.0 or "202211".
type number struct {
	v   float64
	set bool
}

func (n *number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		text, ok := plainString(b)
		if !ok {
			// Escapes or invalid UTF-8. Not json.Unmarshal: it would
			// validate the bytes a second time.
			s, err := strconv.Unquote(string(b))
			if err != nil {
				return fmt.Errorf("not a number: %s", b)
			}
			text = []byte(s)
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			return nil
		}
		// "2,890": the grouping commas dropped, in a buffer on the stack.
		var buf [32]byte
		digits := buf[:0]
		for _, c := range text {
			if c != ',' {
				digits = append(digits, c)
			}
		}
		if len(digits) == 0 {
			return nil
		}
		f, err := strconv.ParseFloat(string(digits), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			// "NaN" parses, and once became -9,223,372,036,854,775,808 km.
			return fmt.Errorf("not a number: %q", string(digits))
		}
		n.v, n.set = f, true
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("not a number: %s", b)
	}
	n.v, n.set = f, true
	return nil
}

// plainString returns the text of the JSON string b when it has no escapes
// and is valid UTF-8, so that it reads the same as strconv.Unquote would
// read it.
func plainString(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[len(b)-1] != '"' {
		return nil, false
	}
	text := b[1 : len(b)-1]
	return text, bytes.IndexByte(text, '\\') < 0 && bytes.IndexByte(text, '"') < 0 && utf8.Valid(text)
}

func (n number) int() int { return int(math.Round(n.v)) }

// krw converts a price in 만원, which may have a fraction (3290.5 is
// ₩32,905,000), to won, rounded to the won.
func krw(manwon float64) int64 { return int64(math.Round(manwon * 10000)) }

// listPage is a search answer as decode.go reads it; a nil pointer is a
// member absent or null.
type listPage struct {
	Count         *number
	SearchResults *[]listRow
}

// listRow holds the members of a row the extractor reads (decode.go names
// them on the wire); a row carries more, which are skipped.
type listRow struct {
	ID              []byte // read in place, like Photo
	Manufacturer    string
	ModelGroup      string // the mobile and premium lists only
	Model           string
	Badge           string
	BadgeDetail     string
	FuelType        string
	HasFuelType     bool // the member was sent, even as null or ""
	Transmission    string
	Year            number
	FormYear        number
	Mileage         number
	Price           number
	SellType        string
	ServiceCopyCar  string
	OfficeCityState string
	Photo           []byte // read in place, like a photo's Location
	Photos          []photo
	ModifiedDate    []byte // read in place: only parsed
}

// photo is one of a row's Photos. Location is read in place from the
// answer: only the first photo's becomes a string.
type photo struct {
	Location []byte
	Ordering float64
}

// List is one decoded search answer.
type List struct {
	Total int               // the upstream's own count of matching ads
	Rows  []vehicle.Vehicle // for-sale ads only
	// Raw is how many rows the page carried before lease, rental and
	// duplicate ads were left out; paging advances by it.
	Raw int
	// Pos is each row's position among the page's raw rows.
	Pos []int
}

// maxTotal bounds a believable Count: Encar lists a few hundred thousand
// cars, so a total past ten million is a misread, not a market.
const maxTotal = 10_000_000

// noBadgeDetail is what Encar puts in BadgeDetail when a trim has no sub-grade.
const noBadgeDetail = "(세부등급 없음)"

// ExtractList decodes a search answer. An HTML body is ErrBlocked, a body
// without Count or SearchResults, a row without an id, make, model, year,
// mileage or price, or with one that is not plausible (NaN, negative, a
// price in won where 만원 was due), is ErrDrift: a changed API must never
// read as "no cars", nor as cars with wrong numbers. A page whose
// SearchResults is empty while count rows were asked for from offset and
// its Count says there are some is drift too (a count-only call asks for
// none).
func ExtractList(body []byte, offset, count int) (*List, error) {
	l, err := extractList(body, count)
	if err != nil {
		return nil, err
	}
	if l.Raw == 0 && count > 0 && l.Total > offset {
		return nil, sources.Drift("SearchResults is empty while Count says %d", l.Total)
	}
	sources.NoteMissingFields(vehicle.Encar, len(l.Rows), func(i int) *vehicle.Vehicle { return &l.Rows[i] }, optional)
	return l, nil
}

// extractList decodes body, an answer to a call for count rows.
func extractList(body []byte, count int) (*List, error) {
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	d := newListDecoder(body)
	defer d.release() // after the rows are read: their photos live in d
	var p listPage
	if err := d.page(&p, count); err != nil {
		return nil, sources.Drift("search JSON: %v", err)
	}
	return p.list()
}

// list checks the decoded answer's rows and turns the ones for sale into
// vehicles.
func (p *listPage) list() (*List, error) {
	if p.Count == nil || !p.Count.set {
		return nil, sources.Drift("missing Count")
	}
	if c := p.Count.v; c < 0 || c > maxTotal || c != math.Trunc(c) {
		// 1e300 would round to a negative int: a total is read as a
		// whole number of ads or not at all.
		return nil, sources.Drift("Count %v is not a number of ads", c)
	}
	if p.SearchResults == nil {
		return nil, sources.Drift("missing SearchResults")
	}
	rows := *p.SearchResults
	out := &List{Total: p.Count.int(), Raw: len(rows), Rows: make([]vehicle.Vehicle, 0, len(rows))}
	// The rows' sellers in one allocation, never grown so that the
	// pointers into it stay valid, and their own strings in one buffer.
	sellers := make([]vehicle.Seller, 0, len(rows))
	var text pageText
	text.Grow(len(rows) * 192)
	for i := range rows {
		r := &rows[i]
		if err := r.check(); err != nil {
			return nil, err
		}
		if r.SellType == "리스" || r.SellType == "렌트" || r.ServiceCopyCar == "DUPLICATION" {
			continue
		}
		out.Rows = append(out.Rows, r.vehicle(&sellers, &text))
		out.Pos = append(out.Pos, i)
	}
	return out, nil
}

// checkJSON rejects what is plainly not the JSON API: block and captcha pages
// come back with status 200 and an HTML body.
func checkJSON(body []byte) error {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return sources.Drift("empty body")
	}
	if t[0] == '<' {
		return fmt.Errorf("%w: HTML where JSON was due", sources.ErrBlocked)
	}
	if t[0] != '{' {
		return sources.Drift("body is not a JSON object")
	}
	return nil
}

func (r *listRow) check() error {
	missing := ""
	switch {
	case len(r.ID) == 0:
		missing = "Id"
	case !isDigits(string(r.ID)):
		return sources.Drift("row Id %q is not numeric", r.ID)
	case r.Manufacturer == "":
		missing = "Manufacturer"
	case r.Model == "":
		missing = "Model"
	case !r.FormYear.set && !r.Year.set:
		missing = "FormYear"
	case !r.Mileage.set:
		missing = "Mileage"
	case !r.Price.set:
		missing = "Price"
	case !r.HasFuelType:
		// Every real row carries FuelType, even when it is "" or null: a
		// row without it is a renamed key, not a car of unknown fuel.
		missing = "FuelType"
	}
	if missing != "" {
		return sources.Drift("row %s: missing %s", r.ID, missing)
	}
	if err := sources.CheckMileage(r.Mileage.v); err != nil {
		return fmt.Errorf("row %s: %w", r.ID, err)
	}
	if r.SellType == "리스" || r.SellType == "렌트" {
		return nil // a lease transfer's price is not a sale price; the row is left out
	}
	if err := sources.CheckPrice(r.Price.v * 10000); err != nil {
		return fmt.Errorf("row %s: %w", r.ID, err)
	}
	year := r.FormYear.int()
	if !r.FormYear.set {
		year = r.Year.int() / 100
	}
	if err := sources.CheckYear(year); err != nil {
		return fmt.Errorf("row %s: %w", r.ID, err)
	}
	if ym := r.Year.int(); r.Year.set && (sources.CheckYear(ym/100) != nil || ym%100 < 1 || ym%100 > 12) {
		return sources.Drift("row %s: Year %v is not a registration YYYYMM", r.ID, r.Year.v)
	}
	return nil
}

// Their counts are exported from the start (sources.DeclareMissing).
var _ = sources.DeclareMissing(vehicle.Encar, optional)

// optional are the row fields an ad may lack; empty on every row of a big
// page, they are counted (sources.NoteMissing). ModifiedDate is not among
// them: the mobile list never sends it.
var optional = []sources.Optional{
	{Name: "fuel", Empty: func(v *vehicle.Vehicle) bool { return v.Fuel == "" }},
	{Name: "transmission", Empty: func(v *vehicle.Vehicle) bool { return v.Transmission == "" }},
	{Name: "trim", Empty: func(v *vehicle.Vehicle) bool { return v.Trim == "" }},
	{Name: "region", Empty: func(v *vehicle.Vehicle) bool { return v.Seller == nil }},
	{Name: "photo", Empty: func(v *vehicle.Vehicle) bool { return v.PhotoURL == "" }},
}

// vehicle is the row's vehicle; its seller is appended to sellers, which
// has room for it, and the strings it makes are written in text.
func (r *listRow) vehicle(sellers *[]vehicle.Seller, text *pageText) vehicle.Vehicle {
	v := vehicle.Vehicle{
		ID:        text.join("encar_", r.ID, ""),
		Source:    vehicle.Encar,
		MileageKm: r.Mileage.int(),
		PriceKRW:  krw(r.Price.v),
		SourceURL: text.join("https://fem.encar.com/cars/detail/", r.ID, ""),
	}
	model := r.Model
	if r.ModelGroup != "" {
		model = r.ModelGroup + " " + r.Model
	}
	v.Make, v.Model = names(r.Manufacturer, strings.TrimSpace(model))
	v.Trim = strings.TrimSpace(r.Badge)
	if d := strings.TrimSpace(r.BadgeDetail); d != "" && d != noBadgeDetail {
		v.Trim = strings.TrimSpace(text.join(v.Trim, space, d))
	}
	v.Year = r.FormYear.int()
	if !r.FormYear.set {
		v.Year = r.Year.int() / 100 // first registration YYYYMM: the best we have
	}
	if r.Year.set {
		ym := r.Year.int()
		v.FirstRegistration = text.yearMonth(ym)
	}
	v.Fuel, _ = korean.Fuel(r.FuelType)
	v.Transmission, _ = korean.Transmission(r.Transmission)
	v.Drivetrain = korean.Drivetrain(r.Badge)
	v.Options = []string{}
	v.PhotoURL = r.photoURL(text)
	if t, ok := listedAt(r.ModifiedDate); ok {
		v.ListedAt = t
	}
	if r.OfficeCityState != "" {
		*sellers = append(*sellers, vehicle.Seller{Type: "dealer", Region: r.OfficeCityState})
		v.Seller = &(*sellers)[len(*sellers)-1]
	}
	return v
}

// names translates Encar's manufacturer and model (a generation such as
// "K5 3세대") into the English make and model group, keeping the raw text of
// whatever the dictionary does not know.
func names(manufacturer, model string) (string, string) {
	mk, ok := korean.MakeByName(manufacturer)
	if !ok {
		korean.Miss(korean.KindMake)
		return manufacturer, model
	}
	md, ok := mk.ModelIn(model)
	if !ok {
		korean.Miss(korean.KindModel)
		return mk.English, model
	}
	return mk.English, md.English
}

func (r *listRow) photoURL(text *pageText) string {
	best := -1
	for i, p := range r.Photos {
		if len(p.Location) > 0 && (best < 0 || p.Ordering < r.Photos[best].Ordering) {
			best = i
		}
	}
	if best >= 0 {
		return text.join(PhotoBase, r.Photos[best].Location, "")
	}
	if len(r.Photo) > 0 {
		return text.join(PhotoBase, r.Photo, "001.jpg")
	}
	return ""
}

// pageText holds the strings a page's vehicles are given (ids, links,
// photo URLs): one allocation per page instead of several per row, which
// the rows share for as long as any of them lives. A string taken from
// strings.Builder's String stays valid as it grows: it never writes over
// what it holds.
type pageText struct{ strings.Builder }

var space = []byte(" ")

// join returns a + b + c.
func (t *pageText) join(a string, b []byte, c string) string {
	start := t.Len()
	t.WriteString(a)
	t.Write(b)
	t.WriteString(c)
	return t.String()[start:]
}

// yearMonth writes a registration YYYYMM that check accepted (a four-digit
// year) as YYYY-MM.
func (t *pageText) yearMonth(ym int) string {
	start := t.Len()
	y, m := ym/100, ym%100
	t.Write([]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-', byte('0' + m/10), byte('0' + m%10)})
	return t.String()[start:]
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// modifiedLayout is how Encar writes a row's ModifiedDate.
const modifiedLayout = "2006-01-02 15:04:05.000 -07"

// listedAt reads a ModifiedDate, in Korean time. Encar writes them all at
// +09: those are read by hand, which time.Parse took a fifth of a row's
// conversion to do; anything else is left to time.Parse.
func listedAt(b []byte) (time.Time, bool) {
	if t, ok := kstModified(b); ok {
		return t, true
	}
	t, err := time.Parse(modifiedLayout, string(b))
	if err != nil {
		return time.Time{}, false
	}
	return t.In(vehicle.KST), true
}

// plus9 is the zone time.Parse gives a time read at +09.
var plus9 = time.FixedZone("", 9*60*60)

// kstModified reads b when it is in modifiedLayout at +09 and a time that
// exists; it declines anything else, which time.Parse then reads or rejects.
func kstModified(b []byte) (time.Time, bool) {
	if len(b) != len(modifiedLayout) || string(b[23:]) != " +09" ||
		b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' || b[19] != '.' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for _, c := range b[from:to] {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	milli, ok7 := num(20, 23)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, milli*1e6, plus9).In(vehicle.KST), true
}

// daysIn is the number of days in a month of a year of the Gregorian
// calendar.
func daysIn(month, year int) int {
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		return 29
	}
	return [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
}
