package danawa

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// List is one decoded list page.
type List struct {
	Total int // the count Danawa shows above the list; -1 when the page does not say
	Rows  []vehicle.Vehicle
	// Raw is how many car rows the page carried (ads and spacers excluded),
	// including rows left out for having no price or no readable id;
	// paging advances by it.
	Raw int
	// Skipped is how many car rows were left out because their link has a
	// shape never seen (no identifier found in it).
	Skipped int
}

// PublicList is the list page partners' browsers open; relative links on
// a page resolve against the page's <base href>, else against it, so a
// row's source_url is absolute whatever base the client was configured with.
var PublicList = &url.URL{Scheme: "https", Host: "auto.danawa.com", Path: "/usedcar/"}

// ExtractList reads a Danawa used-car list page. A page without the list
// container is ErrDrift (or ErrBlocked when it is a bot check); a list with
// no rows is a success with zero rows, unless it is page 1 and the count
// above it says otherwise (past the last page, a list is empty whatever
// the count says: searches read ahead). A row without a year, mileage or price column, or with one in
// a form not seen before ("79.959km", a price outside the plausible range),
// is ErrDrift. Rows whose price is not a number (상담, "ask") are left out:
// a car without a price cannot be sorted or filtered by price. A row whose
// link carries no identifier this reader knows is left out, counted and
// logged; when every row is, the page is drift.
func ExtractList(body []byte, page int) (*List, error) {
	s := scanners.Get().(*scanner)
	defer s.release() // nothing below keeps what the scan read
	p, err := s.scan(body)
	if err != nil {
		return nil, sources.Drift("list HTML: %v", err)
	}
	if !p.list {
		if isBotCheck(body) {
			return nil, fmt.Errorf("%w: bot check page", sources.ErrBlocked)
		}
		return nil, sources.Drift("missing #usedcarList")
	}
	base, baseKey := PublicList, publicListKey
	if p.hasBase {
		if u, err := PublicList.Parse(string(attrValue(p.base))); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			base, baseKey = u, u.String()
		}
	}
	// Memo keys are built in the scanner's key: the base, a space and the
	// value as written.
	key := &s.key
	// The count above the list, "총 12,345대"; -1 when the page does not say
	// (nothing confirms where real pages put it).
	out := &List{Total: -1, Rows: make([]vehicle.Vehicle, 0, len(p.rows))}
	if n, ok := sources.Quantity(string(p.total), "", ""); p.hasTot && ok {
		out.Total = n
	}
	var firstSkip string
	for _, r := range p.rows {
		if !r.found[fTitle] {
			continue // an ad or a spacer
		}
		out.Raw++
		// The row is read into its place in out.Rows (whose capacity is
		// every li's), not copied there.
		n := len(out.Rows)
		out.Rows = out.Rows[:n+1]
		ok, err := row(&out.Rows[n], r, base, baseKey, key)
		if !ok || err != nil {
			out.Rows[n] = vehicle.Vehicle{}
			out.Rows = out.Rows[:n]
		}
		if err != nil { // asked only then: errors.As makes shape escape, one allocation per row
			var shape linkShapeError
			if !errors.As(err, &shape) {
				return nil, err
			}
			out.Skipped++
			if firstSkip == "" {
				firstSkip = shape.href
			}
		}
	}
	if out.Skipped > 0 {
		if out.Skipped == out.Raw {
			return nil, sources.Drift("no row's link carries an identifier (first: %q)", firstSkip)
		}
		sources.NoteSkipped(string(vehicle.Danawa), linkShape, out.Skipped, firstSkip)
	}
	if items := len(p.rows); out.Raw == 0 && out.Total > 0 && (page <= 1 || items > 0) {
		// No car while the count says there are cars: the row markup
		// changed, which must not read as "no cars".
		return nil, sources.Drift("%d list items but no car row while the count says %d", items, out.Total)
	}
	sources.NoteMissingFields(vehicle.Danawa, len(out.Rows), func(i int) *vehicle.Vehicle { return &out.Rows[i] }, optional)
	return out, nil
}

// Their counts are exported from the start (sources.DeclareMissing).
var _ = sources.DeclareMissing(vehicle.Danawa, optional)

// linkShape is the reason a row whose link carries no identifier is
// skipped for (lmn_extract_rows_skipped_total).
var linkShape = sources.DeclareSkipped(vehicle.Danawa, "link_shape")

// optional are the row fields a car may lack; empty on every row of a big
// page, they are counted (sources.NoteMissing).
var optional = []sources.Optional{
	{Name: "region", Empty: func(v *vehicle.Vehicle) bool { return v.Seller == nil || v.Seller.Region == "" }},
	{Name: "listed_at", Empty: func(v *vehicle.Vehicle) bool { return v.ListedAt.IsZero() }},
	{Name: "photo", Empty: func(v *vehicle.Vehicle) bool { return v.PhotoURL == "" }},
	{Name: "trim", Empty: func(v *vehicle.Vehicle) bool { return v.Trim == "" }},
}

// isBotCheck looks for a bot check's words in the page's text (scripts
// included, as a page's text is); only a page without the list is asked.
func isBotCheck(body []byte) bool {
	var text []byte
	z := lexer{b: body}
	var t token
	for z.next(&t); t.kind != tokEOF; z.next(&t) {
		if t.kind == tokText {
			text = appendText(text, t.text.in(body), t.mode)
		}
	}
	s := string(text)
	return strings.Contains(s, "자동입력 방지") || strings.Contains(strings.ToLower(s), "captcha") ||
		strings.Contains(s, "비정상적인 접근")
}

// publicListKey is PublicList's memo key.
var publicListKey = PublicList.String()

// memoKey is the base's key, a space and v: a link or a photo as written
// means one URL for one base.
func memoKey(key *[]byte, baseKey string, v []byte) []byte {
	*key = append(append(append((*key)[:0], baseKey...), ' '), v...)
	return *key
}

// row reads r into v, which is zero; false when the row is left out.
func row(v *vehicle.Vehicle, r *scannedRow, base *url.URL, baseKey string, key *[]byte) (bool, error) {
	l := links.get(memoKey(key, baseKey, r.href), func() rowLink { return readLink(base, string(attrValue(r.href))) })
	if !l.ok {
		return false, linkShapeError{string(attrValue(r.href))}
	}
	id := l.id
	t := titles.get(r.text[fTitle], func() titleParts { return splitTitle(oneSpaced(string(r.text[fTitle]))) })
	if t.title == "" {
		return false, sources.Drift("row %s: empty a.name", id)
	}
	year, ok := modelYear(bytes.TrimSpace(r.text[fYear]))
	if !ok {
		return false, sources.Drift("row %s: .col.year %q is not a year", id, strings.TrimSpace(string(r.text[fYear])))
	}
	km, ok := wholeNumber(r.text[fKm], "km")
	if !ok {
		kmText := string(r.text[fKm])
		if strings.Contains(kmText, " ") {
			kmText = strings.ReplaceAll(kmText, " ", "")
		}
		if km, ok = sources.Quantity(strings.ToLower(kmText), "", "km"); !ok {
			return false, sources.Drift("row %s: .col.km %q is not a whole number of km", id, strings.TrimSpace(kmText))
		}
	}
	if err := sources.CheckMileage(float64(km)); err != nil {
		return false, fmt.Errorf("row %s: %w", id, err)
	}
	if !r.found[fPrice] {
		return false, sources.Drift("row %s: missing .col.price .num", id)
	}
	price, ok := wholeNumber(r.text[fPrice], "")
	if !ok {
		priceText := strings.TrimSpace(string(r.text[fPrice]))
		if price, ok = sources.Quantity(priceText, "", ""); !ok {
			if strings.ContainsAny(priceText, "0123456789") {
				// Digits in another form ("3.750", "3750만"): a changed page, not "ask".
				return false, sources.Drift("row %s: price %q is not a whole number of 만원", id, priceText)
			}
			return false, nil // 상담: no price
		}
	}
	krw := int64(price) * 10000
	if err := sources.CheckPrice(float64(krw)); err != nil {
		return false, fmt.Errorf("row %s: %w", id, err)
	}
	v.ID, v.Source, v.Year, v.MileageKm, v.PriceKRW = l.vehicleID, vehicle.Danawa, year, km, krw
	v.Options, v.SourceURL = []string{}, l.url
	v.Make, v.Model, v.Trim, v.Fuel, v.Drivetrain = t.make, t.model, t.trim, t.fuel, t.drivetrain
	if t.miss {
		korean.Miss(t.missKind) // counted on every row, whether remembered or not
	}
	if r.hasSrc {
		v.PhotoURL = photos.get(memoKey(key, baseKey, r.src), func() string { return photoURL(base, string(attrValue(r.src))) })
	}
	if region := bytes.TrimSpace(r.text[fArea]); len(region) > 0 {
		v.Seller = &vehicle.Seller{Type: "dealer", Region: regions.get(region, func() string { return string(region) })}
	}
	if d := bytes.TrimSpace(r.text[fDate]); len(d) > 0 {
		if t, ok := listedOn(d); ok {
			v.ListedAt = t
		}
	}
	return true, nil
}

// photoURL is a row's photo as an absolute URL; "" when it is none.
func photoURL(base *url.URL, src string) string {
	if u, err := base.Parse(strings.TrimSpace(src)); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		return u.String()
	}
	return ""
}

// linkShapeError is a row whose link carries no identifier this reader
// knows: the row is skipped and counted, the page still read.
type linkShapeError struct{ href string }

func (e linkShapeError) Error() string { return fmt.Sprintf("no identifier in link %q", e.href) }

// Danawa has no detail page: a row is known by the partner site holding
// the ad and that site's ad number, found in the bridge link. No real page
// has confirmed the parameter names, so the whole query is searched: the
// names working crawlers used first, then any parameter whose name says it
// is an id, then the partner link's own query and path.
var (
	adNames      = []string{"carSeq", "carseq", "carId", "carid", "carNo", "carno", "seq", "id", "no"}
	partnerNames = []string{"partner", "site", "siteCode", "cp", "siteCd"}
	idNameRe     = regexp.MustCompile(`(?i)(seq|id|no|num|code|cd|key)$`)
	// volatileNames change on every page view: never part of an id.
	volatileNames = regexp.MustCompile(`(?i)^(t|ts|time|timestamp|rand|rnd|nonce|_|page|order|sort|ref|referer|returnurl|utm_.*|callback)$`)
)

// rowID derives a stable id from a bridge link's query; false when it
// carries none.
func rowID(q url.Values) (string, bool) {
	partner := ""
	for _, n := range partnerNames {
		if p := alnum(strings.ToLower(q.Get(n))); p != "" {
			partner = p
			break
		}
	}
	ad := firstID(q, adNames)
	if ad == "" {
		// Any other parameter that names an id, in name order so the
		// choice never depends on the link's parameter order.
		var names []string
		for n := range q {
			if idNameRe.MatchString(n) && !volatileNames.MatchString(n) && !slices.Contains(partnerNames, n) {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		ad = firstID(q, names)
	}
	if ad == "" {
		// The partner's own link: its query, else a number ending its path.
		for _, n := range []string{"url", "link", "target", "goUrl", "returnUrl"} {
			u, err := url.Parse(q.Get(n))
			if err != nil || u.Host == "" {
				continue
			}
			if partner == "" {
				partner = alnum(hostLabel(u.Hostname()))
			}
			if id, ok := rowID(u.Query()); ok {
				ad = id
			} else if last := path.Base(u.Path); len(last) >= 4 && isDigits(last) {
				ad = last
			}
			if ad != "" {
				break
			}
		}
	}
	if ad == "" {
		return "", false
	}
	id := ad
	if partner != "" && !strings.HasPrefix(ad, partner+"-") {
		id = partner + "-" + ad
	}
	if len(id) > 64 {
		return "", false
	}
	return id, true
}

func firstID(q url.Values, names []string) string {
	for _, n := range names {
		if v := strings.TrimSpace(q.Get(n)); isID(v) {
			return v
		}
	}
	return ""
}

// isID says whether s can be an ad's id: 1 to 48 ASCII letters, digits,
// '_' or '-'.
func isID(s string) bool {
	if len(s) == 0 || len(s) > 48 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isLetter(c) && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// alnum is s with everything but a-z and 0-9 left out.
func alnum(s string) string {
	keep := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
	for i := range len(s) {
		if !keep(s[i]) {
			b := make([]byte, 0, len(s))
			for j := range len(s) {
				if keep(s[j]) {
					b = append(b, s[j])
				}
			}
			return string(b)
		}
	}
	return s
}

// hostLabel is the name of a site from its host: "www.kcar.com" is kcar.
func hostLabel(host string) string {
	parts := strings.Split(strings.TrimPrefix(strings.ToLower(host), "www."), ".")
	if len(parts) >= 3 && (parts[len(parts)-2] == "co" || parts[len(parts)-2] == "com") {
		return parts[len(parts)-3]
	}
	if len(parts) >= 2 {
		return parts[len(parts)-2]
	}
	return parts[0]
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// titleParts is a row title read with the dictionary: the title with its
// white space made single, and what it says.
type titleParts struct {
	title, make, model, trim string
	fuel, drivetrain         string // read in the trim
	miss                     bool
	missKind                 korean.Kind
}

// splitTitle reads "벤츠 E클래스(5세대) E250 익스클루시브" into make, model and
// trim; a make or model the dictionary does not know is kept as written.
func splitTitle(title string) titleParts {
	t := titleParts{title: title}
	mk, rest, ok := korean.MakePrefix(title)
	switch {
	case !ok:
		t.make, t.model, _ = strings.Cut(title, " ")
		t.miss, t.missKind = true, korean.KindMake
	default:
		if md, trim, ok := mk.SplitModel(rest); ok {
			t.make, t.model, t.trim = mk.English, md.English, trim
		} else {
			t.make, t.model = mk.English, rest
			t.miss, t.missKind = true, korean.KindModel
		}
	}
	t.fuel, t.drivetrain = korean.FuelInText(t.trim), korean.Drivetrain(t.trim)
	return t
}

// rowLink is what a row's bridge link says: the row's id (and the
// vehicle's) and its absolute URL; ok is false when it carries no
// identifier.
type rowLink struct {
	id, vehicleID, url string
	ok                 bool
}

func readLink(base *url.URL, href string) rowLink {
	link, err := base.Parse(strings.TrimSpace(href))
	if err != nil {
		return rowLink{}
	}
	id, ok := rowID(link.Query())
	return rowLink{id: id, vehicleID: "danawa_" + id, url: link.String(), ok: ok}
}

// memo remembers the results of a pure function of a page's bytes:
// matching a title against the dictionary is the costliest part of a row
// and parsing its link and photo the most allocating, and the same cars
// are listed page after page and request after request. It holds at most
// maxMemo results and starts afresh when full. A key is looked up without
// being copied.
type memo[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

const maxMemo = 8192

// maxMemoKey is the longest key remembered, so that a page of huge values
// cannot make the memos hold megabytes.
const maxMemoKey = 1024

var (
	titles  = &memo[titleParts]{m: make(map[string]titleParts)} // by the title as written
	links   = &memo[rowLink]{m: make(map[string]rowLink)}       // by memoKey of the href
	photos  = &memo[string]{m: make(map[string]string)}         // by memoKey of the src
	regions = &memo[string]{m: make(map[string]string)}         // the region's own text
)

func (c *memo[V]) get(key []byte, compute func() V) V {
	if len(key) > maxMemoKey {
		return compute() // no real title, link or photo is this long
	}
	c.mu.Lock()
	v, ok := c.m[string(key)]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	c.mu.Lock()
	if len(c.m) >= maxMemo {
		c.m = make(map[string]V)
	}
	c.m[string(key)] = v
	c.mu.Unlock()
	return v
}

// oneSpaced is s with its runs of white space made one space and trimmed;
// s itself when it already is.
func oneSpaced(s string) string {
	prevSpace := true // a leading space needs the slow way too
	for _, r := range s {
		space := unicode.IsSpace(r)
		if space && (r != ' ' || prevSpace) {
			return strings.Join(strings.Fields(s), " ")
		}
		prevSpace = space
	}
	if prevSpace && s != "" {
		return strings.Join(strings.Fields(s), " ")
	}
	return s
}
