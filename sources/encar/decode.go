package encar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"
)

// A search answer is read token by token (jsonread.go): only the members a
// row needs are decoded, everything else (unused arrays, photo metadata) is
// skipped while still being validated, and repeated values (makes, fuels,
// regions) are decoded once per page. encoding/json.Unmarshal, which scans the
// body once to validate it and again to fill the structs by reflection, was
// half of an answer's CPU and most of its allocations.
//
// The reader accepts and rejects exactly what encoding/json.Unmarshal did with
// the same structs, so that drift still reads as drift and nothing that read
// before reads differently now: names match case-insensitively (an exact match
// first), a duplicate name is decoded again over the first, null leaves a
// value as it was (and clears a pointer or slice), invalid UTF-8 in a string
// reads as U+FFFD, a value of the wrong JSON type is an error, and anything
// after the object is an error. decode_test.go holds that reference decoder
// and compares the two.

// listDecoder is the state of one answer's decoding, pooled between answers.
type listDecoder struct {
	r           jsonReader        // the body, read in place
	intern      map[string]string // this answer's repeated string values
	photos      []photo           // backing for every row's Photos
	rowsBacking []listRow         // backing for SearchResults, all zero between answers
	rowsUsed    int               // how much of rowsBacking this answer wrote
	unquoted    []byte            // the last name that had escapes
}

var listDecoders = sync.Pool{New: func() any { return &listDecoder{intern: map[string]string{}} }}

// newListDecoder returns a decoder reading body, which must stay unchanged
// until the decoder is released.
func newListDecoder(body []byte) *listDecoder {
	d := listDecoders.Get().(*listDecoder)
	d.r.reset(body)
	d.photos = d.photos[:0]
	return d
}

// release returns d to the pool, keeping neither the answer nor its rows'
// photos alive.
func (d *listDecoder) release() {
	d.r.reset(nil)
	clear(d.photos) // only ever appended to
	clear(d.rowsBacking[:min(d.rowsUsed, cap(d.rowsBacking))])
	d.rowsUsed = 0
	clear(d.intern)
	listDecoders.Put(d)
}

// page decodes the answer into p; rowsHint is how many rows it was asked
// for, to size the rows once.
func (d *listDecoder) page(p *listPage, rowsHint int) error {
	if err := d.open('{', "the answer"); err != nil {
		return err
	}
	for d.r.peek() != '}' {
		name, err := d.name()
		if err != nil {
			return err
		}
		switch member(name, pageMembers) {
		case mCount:
			err = d.numberPtr(&p.Count)
		case mSearchResults:
			err = d.rows(&p.SearchResults, rowsHint)
		default:
			err = d.skip()
		}
		if err != nil {
			return err
		}
	}
	if err := d.r.readDelim(); err != nil {
		return err
	}
	return d.r.atEnd()
}

// skip reads past the next value, validating it.
func (d *listDecoder) skip() error {
	_, err := d.r.readValue()
	return err
}

// open reads the start of an object or array, which must come next.
func (d *listDecoder) open(kind byte, what string) error {
	if k := d.r.peek(); k != kind {
		return d.typeError(k, what)
	}
	return d.r.readDelim()
}

// typeError is a value of the wrong JSON type (or the syntax error that
// stopped peek, which then returns 0).
func (d *listDecoder) typeError(k byte, what string) error {
	if k == 0 {
		_, err := d.r.readValue()
		return err
	}
	return fmt.Errorf("%s at %s is a JSON %s", what, d.r.pointer(), kindNames[k])
}

// kindNames name the kinds of token peek returns.
var kindNames = map[byte]string{
	'{': "object", '[': "array", '"': "string", '0': "number", 't': "true", 'f': "false", 'n': "null",
}

// rows decodes SearchResults. A second SearchResults decodes over the
// first's rows, as encoding/json did.
func (d *listDecoder) rows(pp **[]listRow, hint int) error {
	switch d.r.peek() {
	case 'n':
		*pp = nil
		return d.skip()
	case '[':
	default:
		return d.typeError(d.r.peek(), "SearchResults")
	}
	if *pp == nil {
		// The rows are only read until the answer's vehicles are made:
		// their backing is the decoder's, zero as if new. An earlier
		// SearchResults of this answer, since made null, may have written
		// it: its rows must not show through this array's.
		clear(d.rowsBacking[:min(d.rowsUsed, cap(d.rowsBacking))])
		s := d.rowsBacking[:0]
		if n := min(max(hint, 0), MaxCount); cap(s) < n {
			s = make([]listRow, 0, n)
		}
		*pp = &s
	}
	rows := *pp
	if err := d.open('[', "SearchResults"); err != nil {
		return err
	}
	i := 0
	for ; d.r.peek() != ']'; i++ {
		*rows = grow(*rows, i)
		d.rowsUsed = max(d.rowsUsed, i+1)
		if err := d.row(&(*rows)[i]); err != nil {
			return err
		}
	}
	*rows = shrink(*rows, i)
	if cap(*rows) > cap(d.rowsBacking) && cap(*rows) <= MaxCount {
		// Grown: kept for the next answer, up to what a call may ask
		// for, so a freak answer's rows are not kept alive by the pool.
		d.rowsBacking = (*rows)[:0]
	}
	return d.r.readDelim()
}

// grow makes s[i] addressable the way encoding/json did when it decoded the
// i-th element of an array into s: what is there is kept and decoded over.
func grow[T any](s []T, i int) []T {
	switch {
	case i < len(s):
		return s
	case i < cap(s):
		return s[:i+1]
	default:
		var zero T
		return append(s, zero)
	}
}

// shrink ends s after an array of n elements, as encoding/json did: an empty
// array leaves an empty slice, not what was there.
func shrink[T any](s []T, n int) []T {
	if n == 0 {
		return []T{}
	}
	return s[:n]
}

func (d *listDecoder) row(r *listRow) error {
	if d.r.peek() == 'n' {
		return d.skip() // null leaves the row as it was
	}
	if err := d.open('{', "a row"); err != nil {
		return err
	}
	for d.r.peek() != '}' {
		name, err := d.name()
		if err != nil {
			return err
		}
		switch member(name, rowMembers) {
		case mID:
			err = d.bytes(&r.ID)
		case mManufacturer:
			err = d.str(&r.Manufacturer)
		case mModelGroup:
			err = d.str(&r.ModelGroup)
		case mModel:
			err = d.str(&r.Model)
		case mBadge:
			err = d.str(&r.Badge)
		case mBadgeDetail:
			err = d.str(&r.BadgeDetail)
		case mFuelType:
			r.HasFuelType = true
			err = d.str(&r.FuelType)
		case mTransmission:
			err = d.str(&r.Transmission)
		case mYear:
			err = d.number(&r.Year)
		case mFormYear:
			err = d.number(&r.FormYear)
		case mMileage:
			err = d.number(&r.Mileage)
		case mPrice:
			err = d.number(&r.Price)
		case mSellType:
			err = d.str(&r.SellType)
		case mServiceCopyCar:
			err = d.str(&r.ServiceCopyCar)
		case mOfficeCityState:
			err = d.str(&r.OfficeCityState)
		case mPhoto:
			err = d.bytes(&r.Photo)
		case mPhotos:
			err = d.photoList(&r.Photos)
		case mModifiedDate:
			err = d.bytes(&r.ModifiedDate)
		default:
			err = d.skip()
		}
		if err != nil {
			return err
		}
	}
	return d.r.readDelim()
}

// photoList decodes a row's Photos. The first is kept in the answer's
// shared backing; a second Photos member decodes over the first.
func (d *listDecoder) photoList(ps *[]photo) error {
	switch d.r.peek() {
	case 'n':
		*ps = nil
		return d.skip()
	case '[':
	default:
		return d.typeError(d.r.peek(), "Photos")
	}
	if err := d.open('[', "Photos"); err != nil {
		return err
	}
	if *ps == nil {
		start := len(d.photos)
		for d.r.peek() != ']' {
			d.photos = append(d.photos, photo{})
			if err := d.photo(&d.photos[len(d.photos)-1]); err != nil {
				return err
			}
		}
		// Capacity ends with the row's photos: a second Photos member
		// must never grow into another row's.
		*ps = shrink(d.photos[start:len(d.photos):len(d.photos)], len(d.photos)-start)
	} else {
		i := 0
		for ; d.r.peek() != ']'; i++ {
			*ps = grow(*ps, i)
			if err := d.photo(&(*ps)[i]); err != nil {
				return err
			}
		}
		*ps = shrink(*ps, i)
	}
	return d.r.readDelim()
}

func (d *listDecoder) photo(p *photo) error {
	if d.r.peek() == 'n' {
		return d.skip()
	}
	if err := d.open('{', "a photo"); err != nil {
		return err
	}
	for d.r.peek() != '}' {
		name, err := d.name()
		if err != nil {
			return err
		}
		switch member(name, photoMembers) {
		case mLocation:
			err = d.bytes(&p.Location)
		case mOrdering:
			err = d.float(&p.Ordering)
		default:
			err = d.skip()
		}
		if err != nil {
			return err
		}
	}
	return d.r.readDelim()
}

// name reads a member's name, unquoted; it is valid until the next read.
func (d *listDecoder) name() ([]byte, error) {
	v, err := d.r.readValue()
	if err != nil {
		return nil, err
	}
	if raw, ok := d.verbatim(v); ok {
		return raw, nil
	}
	// Escapes, or invalid UTF-8, which comes out as U+FFFD as it did
	// for encoding/json.
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	d.unquoted = append(d.unquoted[:0], s...)
	return d.unquoted, nil
}

// numberPtr decodes a number whose absence must be told from zero: null
// clears it, as encoding/json did for a pointer.
func (d *listDecoder) numberPtr(np **number) error {
	v, err := d.r.readValue()
	if err != nil {
		return err
	}
	if valueKind(v) == 'n' {
		*np = nil
		return nil
	}
	if *np == nil {
		*np = new(number)
	}
	return (*np).UnmarshalJSON(v)
}

func (d *listDecoder) number(n *number) error {
	v, err := d.r.readValue()
	if err != nil {
		return err
	}
	return n.UnmarshalJSON(v)
}

// float decodes a plain JSON number (a photo's ordering): a string there
// was an error for encoding/json, and so it stays.
func (d *listDecoder) float(f *float64) error {
	v, err := d.r.readValue()
	switch {
	case err != nil:
		return err
	case valueKind(v) == 'n':
		return nil
	case valueKind(v) != '0':
		return d.typeError(valueKind(v), "a photo's ordering")
	}
	x, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return fmt.Errorf("a photo's ordering %s at %s: %w", v, d.r.pointer(), err)
	}
	*f = x
	return nil
}

// str decodes a string member; null leaves it as it was. Values repeat
// across rows (a make, a fuel, a region): they are interned.
func (d *listDecoder) str(s *string) error {
	v, err := d.r.readValue()
	switch {
	case err != nil:
		return err
	case valueKind(v) == 'n':
		return nil
	case valueKind(v) != '"':
		return d.typeError(valueKind(v), "a string member")
	}
	if raw, ok := d.verbatim(v); ok {
		if is, ok := d.intern[string(raw)]; ok {
			*s = is
		} else {
			*s = string(raw)
			d.intern[*s] = *s
		}
		return nil
	}
	return json.Unmarshal(v, s)
}

// bytes decodes a string member that is only read while the answer is
// decoded, without copying it when it has no escapes.
func (d *listDecoder) bytes(b *[]byte) error {
	v, err := d.r.readValue()
	switch {
	case err != nil:
		return err
	case valueKind(v) == 'n':
		return nil
	case valueKind(v) != '"':
		return d.typeError(valueKind(v), "a string member")
	}
	if raw, ok := d.verbatim(v); ok {
		*b = raw
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return err
	}
	*b = []byte(s)
	return nil
}

// verbatim returns the text of v, the JSON string just read, when it has
// no escapes and is valid UTF-8, which is how Encar sends its strings.
// Others are unquoted by encoding/json itself, so that escapes, lone
// surrogates and invalid UTF-8 read exactly as they did.
func (d *listDecoder) verbatim(v []byte) ([]byte, bool) {
	raw := v[1 : len(v)-1]
	return raw, !d.r.valueSpecial
}

// The members read, by their names on the wire.
const (
	mNone = iota
	mCount
	mSearchResults
	mID
	mManufacturer
	mModelGroup
	mModel
	mBadge
	mBadgeDetail
	mFuelType
	mTransmission
	mYear
	mFormYear
	mMileage
	mPrice
	mSellType
	mServiceCopyCar
	mOfficeCityState
	mPhoto
	mPhotos
	mModifiedDate
	mLocation
	mOrdering
)

// memberName is a member read and its name on the wire.
type memberName struct {
	name string
	m    int
}

// The members read at each level, for names in another case.
var (
	pageMembers = []memberName{{"SearchResults", mSearchResults}, {"Count", mCount}}
	rowMembers  = []memberName{
		{"Id", mID}, {"Manufacturer", mManufacturer}, {"Model", mModel}, {"Badge", mBadge},
		{"FuelType", mFuelType}, {"Transmission", mTransmission}, {"Year", mYear}, {"FormYear", mFormYear},
		{"Mileage", mMileage}, {"Price", mPrice}, {"SellType", mSellType}, {"ServiceCopyCar", mServiceCopyCar},
		{"OfficeCityState", mOfficeCityState}, {"Photo", mPhoto}, {"Photos", mPhotos},
		{"ModifiedDate", mModifiedDate}, {"BadgeDetail", mBadgeDetail}, {"ModelGroup", mModelGroup},
	}
	photoMembers = []memberName{{"location", mLocation}, {"ordering", mOrdering}}
)

// member is the member a name (unquoted) stands for: the exact name, or
// else one equal under Unicode case folding ("id", "ID", "ſearchResults"),
// as encoding/json matched them; mNone for a member not read.
func member(name []byte, ns []memberName) int {
	if m := exact(name); m != mNone {
		return m
	}
	ascii := true
	for _, c := range name {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	for _, n := range ns {
		// Only a name with non-ASCII letters (K for K, ſ for s) can fold
		// to a name of another length.
		if (!ascii || len(n.name) == len(name)) && bytes.EqualFold([]byte(n.name), name) {
			return n.m
		}
	}
	return mNone
}

// exact is member for a name spelt as on the wire, at any level: the
// names of the levels differ even under folding.
func exact(name []byte) int {
	switch string(name) {
	case "Id":
		return mID
	case "Manufacturer":
		return mManufacturer
	case "ModelGroup":
		return mModelGroup
	case "Model":
		return mModel
	case "Badge":
		return mBadge
	case "BadgeDetail":
		return mBadgeDetail
	case "FuelType":
		return mFuelType
	case "Transmission":
		return mTransmission
	case "Year":
		return mYear
	case "FormYear":
		return mFormYear
	case "Mileage":
		return mMileage
	case "Price":
		return mPrice
	case "SellType":
		return mSellType
	case "ServiceCopyCar":
		return mServiceCopyCar
	case "OfficeCityState":
		return mOfficeCityState
	case "Photo":
		return mPhoto
	case "Photos":
		return mPhotos
	case "ModifiedDate":
		return mModifiedDate
	case "location":
		return mLocation
	case "ordering":
		return mOrdering
	case "Count":
		return mCount
	case "SearchResults":
		return mSearchResults
	}
	return mNone
}
