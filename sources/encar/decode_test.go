package encar

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/internal/golden"
	"github.com/lmn/aggregator/sources"
)

// The reference decoder: the structs and encoding/json.Unmarshal that read
// search answers before the token reader, kept to hold the two to the same
// answers.
type refPage struct {
	Count         *number   `json:"Count"`
	SearchResults *[]refRow `json:"SearchResults"`
}

type refRow struct {
	ID              string     `json:"Id"`
	Manufacturer    string     `json:"Manufacturer"`
	ModelGroup      string     `json:"ModelGroup"`
	Model           string     `json:"Model"`
	Badge           string     `json:"Badge"`
	BadgeDetail     string     `json:"BadgeDetail"`
	FuelType        refString  `json:"FuelType"`
	Transmission    string     `json:"Transmission"`
	Year            number     `json:"Year"`
	FormYear        number     `json:"FormYear"`
	Mileage         number     `json:"Mileage"`
	Price           number     `json:"Price"`
	SellType        string     `json:"SellType"`
	ServiceCopyCar  string     `json:"ServiceCopyCar"`
	OfficeCityState string     `json:"OfficeCityState"`
	Photo           string     `json:"Photo"`
	Photos          []refPhoto `json:"Photos"`
	ModifiedDate    string     `json:"ModifiedDate"`
}

// refString is a string member whose presence is kept: encoding/json
// calls UnmarshalJSON for null too, which leaves the text as it was.
type refString struct {
	s   string
	set bool
}

func (r *refString) UnmarshalJSON(b []byte) error {
	r.set = true
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &r.s)
}

type refPhoto struct {
	Location string  `json:"location"`
	Ordering float64 `json:"ordering"`
}

// refExtractList is extractList with encoding/json in place of the token
// reader.
func refExtractList(body []byte) (*List, error) {
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	var rp refPage
	if err := json.Unmarshal(body, &rp); err != nil {
		return nil, sources.Drift("search JSON: %v", err)
	}
	p := listPage{Count: rp.Count}
	if rp.SearchResults != nil {
		rows := make([]listRow, len(*rp.SearchResults))
		for i, r := range *rp.SearchResults {
			rows[i] = listRow{
				ID: []byte(r.ID), Manufacturer: r.Manufacturer, ModelGroup: r.ModelGroup, Model: r.Model, Badge: r.Badge,
				BadgeDetail: r.BadgeDetail, FuelType: r.FuelType.s, HasFuelType: r.FuelType.set, Transmission: r.Transmission, Year: r.Year,
				FormYear: r.FormYear, Mileage: r.Mileage, Price: r.Price, SellType: r.SellType,
				ServiceCopyCar: r.ServiceCopyCar, OfficeCityState: r.OfficeCityState, Photo: []byte(r.Photo),
				ModifiedDate: []byte(r.ModifiedDate),
			}
			for _, ph := range r.Photos {
				rows[i].Photos = append(rows[i].Photos, photo{Location: []byte(ph.Location), Ordering: ph.Ordering})
			}
		}
		p.SearchResults = &rows
	}
	return p.list()
}

// sameAsReference fails unless the token reader and encoding/json read body
// alike: the same rows, or failures of the same kind.
func sameAsReference(t *testing.T, body []byte) (*List, error) {
	t.Helper()
	got, err := extractList(body, 500)
	want, wantErr := refExtractList(body)
	if (err == nil) != (wantErr == nil) || sources.Outcome(err) != sources.Outcome(wantErr) {
		t.Fatalf("token reader: %v; encoding/json: %v\nbody: %q", err, wantErr, body)
	}
	if err == nil {
		require.Equal(t, want, got, "body: %q", body)
	}
	return got, err
}

// A row with every member read, and what it reads as (by hand).
const decodeBase = `{"Count":1,"SearchResults":[{"Id":"1001","Manufacturer":"기아","Model":"K5 3세대","Badge":"2.0",` +
	`"FuelType":"가솔린","Year":202206,"FormYear":"2022","Mileage":70110,"Price":1790,"SellType":"일반",` +
	`"OfficeCityState":"부산","Photo":"/p/1001_","ModifiedDate":"2025-06-15 10:00:00.000 +09"}]}`

// TestDecodeEdges: what a wrong type, a null, a duplicate name, a huge
// number, invalid UTF-8 or a name in another case reads as, written by hand
// from what encoding/json did, and checked against both readers.
func TestDecodeEdges(t *testing.T) {
	row := func(check func(*testing.T, *List)) func(*testing.T, *List) {
		return func(t *testing.T, l *List) {
			require.Len(t, l.Rows, 1)
			assert.Equal(t, "encar_1001", l.Rows[0].ID)
			check(t, l)
		}
	}
	price := func(krw int64) func(*testing.T, *List) {
		return row(func(t *testing.T, l *List) { assert.Equal(t, krw, l.Rows[0].PriceKRW) })
	}
	photoURL := func(u string) func(*testing.T, *List) {
		return row(func(t *testing.T, l *List) { assert.Equal(t, u, l.Rows[0].PhotoURL) })
	}
	region := func(r string) func(*testing.T, *List) {
		return row(func(t *testing.T, l *List) {
			require.NotNil(t, l.Rows[0].Seller)
			assert.Equal(t, r, l.Rows[0].Seller.Region)
		})
	}
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		name     string
		old, new string // replaced once in decodeBase
		drift    bool
		want     func(*testing.T, *List)
	}{
		{name: "as sent", want: row(func(t *testing.T, l *List) {
			v := l.Rows[0]
			assert.Equal(t, [2]string{"Kia", "K5"}, [2]string{v.Make, v.Model})
			assert.Equal(t, [3]int{2022, 70110, 1}, [3]int{v.Year, v.MileageKm, l.Total})
			assert.Equal(t, "2022-06", v.FirstRegistration)
			assert.Equal(t, PhotoBase+"/p/1001_001.jpg", v.PhotoURL)
		})},

		// A number where a string is due, a string where a number is due.
		{name: "id as a number", old: `"Id":"1001"`, new: `"Id":1001`, drift: true},
		{name: "make as a number", old: `"Manufacturer":"기아"`, new: `"Manufacturer":7`, drift: true},
		{name: "region as an array", old: `"OfficeCityState":"부산"`, new: `"OfficeCityState":["부산"]`, drift: true},
		{name: "photo location as a number", old: `"Photo":`, new: `"Photos":[{"location":1,"ordering":1}],"Photo":`, drift: true},
		{name: "ordering as a string", old: `"Photo":`, new: `"Photos":[{"location":"/p/a.jpg","ordering":"1"}],"Photo":`, drift: true},
		{name: "photos as an object", old: `"Photo":`, new: `"Photos":{},"Photo":`, drift: true},
		{name: "a row as a string", old: `[{"Id"`, new: `["1001",{"Id"`, drift: true},
		{name: "results as an object", old: `"SearchResults":[`, new: `"SearchResults":{},"X":[`, drift: true},
		{name: "mileage as a string", old: `"Mileage":70110`, new: `"Mileage":"70110"`, want: row(func(t *testing.T, l *List) { assert.Equal(t, 70110, l.Rows[0].MileageKm) })},
		{name: "price grouped and spaced", old: `"Price":1790`, new: `"Price":" 1,790 "`, want: price(17_900_000)},
		{name: "price with an escape", old: `"Price":1790`, new: `"Price":"\u0031790"`, want: price(17_900_000)},
		{name: "count as a string", old: `"Count":1`, new: `"Count":"1"`, want: row(func(t *testing.T, l *List) { assert.Equal(t, 1, l.Total) })},
		{name: "mileage as true", old: `"Mileage":70110`, new: `"Mileage":true`, drift: true},
		{name: "mileage as an object", old: `"Mileage":70110`, new: `"Mileage":{"km":70110}`, drift: true},
		{name: "price as words", old: `"Price":1790`, new: `"Price":"상담"`, drift: true},

		// null.
		{name: "fuel null", old: `"FuelType":"가솔린"`, new: `"FuelType":null`, want: row(func(t *testing.T, l *List) { assert.Empty(t, l.Rows[0].Fuel) })},
		{name: "mileage null", old: `"Mileage":70110`, new: `"Mileage":null`, drift: true},
		{name: "count null", old: `"Count":1`, new: `"Count":null`, drift: true},
		{name: "results null", old: `"SearchResults":[`, new: `"SearchResults":null,"X":[`, drift: true},
		{name: "a null row", old: `[{"Id"`, new: `[null,{"Id"`, drift: true},
		{name: "photos null", old: `"Photo":`, new: `"Photos":null,"Photo":`, want: photoURL(PhotoBase + "/p/1001_001.jpg")},
		{name: "a null photo", old: `"Photo":`, new: `"Photos":[null,{"location":"/p/a.jpg","ordering":2}],"Photo":`, want: photoURL(PhotoBase + "/p/a.jpg")},
		{name: "ordering null reads as 0", old: `"Photo":`, new: `"Photos":[{"location":"/p/a.jpg","ordering":1},{"location":"/p/b.jpg","ordering":null}],"Photo":`, want: photoURL(PhotoBase + "/p/b.jpg")},

		// Duplicate names: the last value wins; null keeps the first,
		// except for Count and the arrays, which it clears; a second
		// array decodes over the first's elements.
		{name: "price twice", old: `"Price":1790`, new: `"Price":1790,"Price":2000`, want: price(20_000_000)},
		{name: "price then null", old: `"Price":1790`, new: `"Price":1790,"Price":null`, want: price(17_900_000)},
		{name: "price then empty", old: `"Price":1790`, new: `"Price":1790,"Price":""`, want: price(17_900_000)},
		{name: "count then null", old: `"Count":1`, new: `"Count":1,"Count":null`, drift: true},
		{name: "id twice", old: `"Id":"1001"`, new: `"Id":"1002","Id":"1001"`, want: price(17_900_000)},
		{name: "results twice", old: `]}`, new: `],"SearchResults":[{"Price":2000}]}`, want: price(20_000_000)},
		{name: "results then empty", old: `]}`, new: `],"SearchResults":[]}`, want: func(t *testing.T, l *List) {
			assert.Equal(t, [2]int{0, 0}, [2]int{l.Raw, len(l.Rows)})
		}},
		{name: "results then null", old: `]}`, new: `],"SearchResults":null}`, drift: true},
		{name: "results, null, then results", old: `]}`, new: `],"SearchResults":null,"SearchResults":[{"Id":"7"}]}`, drift: true}, // row 7 has no make
		{name: "photos twice", old: `"Photo":`, new: `"Photos":[{"location":"/p/a.jpg","ordering":2}],"Photos":[{"ordering":1}],"Photo":`, want: photoURL(PhotoBase + "/p/a.jpg")},

		// Huge numbers.
		{name: "mileage 1e400", old: `"Mileage":70110`, new: `"Mileage":1e400`, drift: true},
		{name: "price 1e400 as a string", old: `"Price":1790`, new: `"Price":"1e400"`, drift: true},
		{name: "count 1e400", old: `"Count":1`, new: `"Count":1e400`, drift: true},
		{name: "ordering 1e400", old: `"Photo":`, new: `"Photos":[{"location":"/p/a.jpg","ordering":1e400}],"Photo":`, drift: true},
		{name: "mileage of 30 digits", old: `"Mileage":70110`, new: `"Mileage":123456789012345678901234567890`, drift: true},
		{name: "an unread member 1e400", old: `"Id"`, new: `"Extra":1e400,"Id"`, want: price(17_900_000)},

		// Strings: invalid UTF-8 and lone surrogates read as U+FFFD,
		// escapes as what they stand for.
		{name: "invalid UTF-8", old: `"부산"`, new: "\"\xff부산\"", want: region("\ufffd부산")},
		{name: "a lone surrogate", old: `"부산"`, new: `"\ud800부산"`, want: region("\ufffd부산")},
		{name: "a surrogate pair", old: `"부산"`, new: `"\ud83d\ude97부산"`, want: region("🚗부산")},
		{name: "a broken surrogate pair", old: `"부산"`, new: `"\ud83d\u0041부산"`, want: region("\ufffdA부산")},
		{name: "invalid UTF-8 in an unread member", old: `"Id"`, new: "\"Extra\":\"\xff\",\"Id\"", want: price(17_900_000)},
		{name: "invalid UTF-8 in a name", old: `"Price"`, new: "\"Pri\xffce\"", drift: true},
		{name: "an escaped make", old: `"기아"`, new: `"\uae30\uc544"`, want: row(func(t *testing.T, l *List) { assert.Equal(t, "Kia", l.Rows[0].Make) })},
		{name: "escaped slashes", old: `"/p/1001_"`, new: `"\/p\/1001_"`, want: photoURL(PhotoBase + "/p/1001_001.jpg")},
		{name: "a control character", old: `"부산"`, new: "\"부\x01산\"", drift: true},

		// Names match in any case, exact names first.
		{name: "price in lower case", old: `"Price"`, new: `"price"`, want: price(17_900_000)},
		{name: "price in upper case", old: `"Price"`, new: `"PRICE"`, want: price(17_900_000)},
		{name: "exact name after a folded one", old: `"Price":1790`, new: `"Price":1790,"PRICE":2000`, want: price(20_000_000)},
		{name: "results in lower case", old: `"SearchResults"`, new: `"searchresults"`, want: price(17_900_000)},
		{name: "a long s folds to s", old: `"SellType":"일반"`, new: `"ſellType":"리스"`, want: func(t *testing.T, l *List) {
			assert.Equal(t, [2]int{1, 0}, [2]int{l.Raw, len(l.Rows)}, "a lease, left out")
		}},
		{name: "a dotless i does not fold to i", old: `"Id"`, new: `"ıd"`, drift: true},

		// The grammar, in members no row reads: each of these is not
		// JSON, and a body that is not JSON is drift wherever it breaks.
		{name: "a comma before the end of an object", old: `"Id"`, new: `"X":{"a":1,},"Id"`, drift: true},
		{name: "a comma before the end of an array", old: `"Id"`, new: `"X":[1,],"Id"`, drift: true},
		{name: "a comma first in an array", old: `"Id"`, new: `"X":[,1],"Id"`, drift: true},
		{name: "two commas", old: `"Id"`, new: `"X":[1,,2],"Id"`, drift: true},
		{name: "no comma", old: `"Id"`, new: `"X":[1 2],"Id"`, drift: true},
		{name: "no colon", old: `"Id"`, new: `"X" 1,"Id"`, drift: true},
		{name: "a name not quoted", old: `"Id"`, new: `X:1,"Id"`, drift: true},
		{name: "a number as a name", old: `"Id"`, new: `"X":{1:2},"Id"`, drift: true},
		{name: "a leading zero", old: `"Id"`, new: `"X":01,"Id"`, drift: true},
		{name: "a point without digits", old: `"Id"`, new: `"X":1.,"Id"`, drift: true},
		{name: "an exponent without digits", old: `"Id"`, new: `"X":1e+,"Id"`, drift: true},
		{name: "a lone minus", old: `"Id"`, new: `"X":-,"Id"`, drift: true},
		{name: "a plus sign", old: `"Id"`, new: `"X":+1,"Id"`, drift: true},
		{name: "a cut literal", old: `"Id"`, new: `"X":nul,"Id"`, drift: true},
		{name: "a literal in capitals", old: `"Id"`, new: `"X":True,"Id"`, drift: true},
		{name: "an unknown escape", old: `"Id"`, new: `"X":"\x41","Id"`, drift: true},
		{name: "a short unicode escape", old: `"Id"`, new: `"X":"\u41","Id"`, drift: true},
		{name: "a tab in a string", old: `"Id"`, new: "\"X\":\"a\tb\",\"Id\"", drift: true},
		{name: "a single-quoted string", old: `"Id"`, new: `"X":'a',"Id"`, drift: true},
		{name: "an array closed as an object", old: `"Id"`, new: `"X":[1},"Id"`, drift: true},
		{name: "every kind of value, spaced", old: `"Id"`, new: "\"X\" : [ -0.5e+3 , 0 , true , false , null , \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\" , { } , [ ] ] ,\r\n\"Id\"", want: price(17_900_000)},

		// Around the value.
		{name: "a value after the object", old: `]}`, new: `]} x`, drift: true},
		{name: "an object after the object", old: `]}`, new: `]}{}`, drift: true},
		{name: "space after the object", old: `]}`, new: "]}\n\t ", want: price(17_900_000)},
		{name: "a byte order mark", old: `{"Count"`, new: "\ufeff{\"Count\"", drift: true},
		{name: "nesting 10000 deep", old: `"Id"`, new: `"X":` + nest(10000-3) + `,"Id"`, want: price(17_900_000)},
		{name: "nesting 10001 deep", old: `"Id"`, new: `"X":` + nest(10001-3) + `,"Id"`, drift: true},
		{name: "a truncated answer", old: `"ModifiedDate"`, new: `"ModifiedDate"]}`, drift: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, decodeBase, tc.old)
			body := []byte(strings.Replace(decodeBase, tc.old, tc.new, 1))
			l, err := sameAsReference(t, body)
			if tc.drift {
				require.ErrorIs(t, err, sources.ErrDrift)
				return
			}
			require.NoError(t, err)
			tc.want(t, l)
		})
	}
}

// TestDecodeTestdata: every list input and real capture reads the same
// through both readers.
func TestDecodeTestdata(t *testing.T) {
	inputs := golden.Inputs(t, testdata, "list-")
	for _, in := range inputs {
		body, err := os.ReadFile(in)
		require.NoError(t, err)
		t.Run(filepath.Base(in), func(t *testing.T) { sameAsReference(t, body) })
	}
	for _, c := range []string{"search-list-compact.json", "search-list-duplication.json", "search-list-mobile-200.json"} {
		t.Run(c, func(t *testing.T) {
			l, err := sameAsReference(t, golden.Capture(t, "encar/"+c))
			require.NoError(t, err)
			assert.NotZero(t, l.Raw)
		})
	}
}

// FuzzDecodeList: whatever the body, the token reader reads what
// encoding/json read.
func FuzzDecodeList(f *testing.F) {
	golden.Seed(f, testdata)
	f.Add([]byte(decodeBase))
	f.Add([]byte(strings.Replace(decodeBase, `"Photo":`, `"Photos":[{"location":"/p/a.jpg","ordering":2}],"Photos":[{"ordering":1},{}],"Photo":`, 1)))
	f.Add([]byte(strings.Replace(decodeBase, `]}`, `],"SearchResults":[{"Price":2000},{"Id":"7"}],"searchResults":[null]}`, 1)))
	f.Fuzz(func(t *testing.T, body []byte) { sameAsReference(t, body) })
}

// TestReaderKeepsNoAnswer: once reset, a reader holds nothing of the
// answer it read (its frames keep names for error paths), so a pooled
// decoder does not keep a body alive.
func TestReaderKeepsNoAnswer(t *testing.T) {
	body := []byte(`{"a":{"b":{"c":{"d":[1]}}},"e":"` + strings.Repeat("x", 1<<20) + `"}`)
	var r jsonReader
	r.reset(body)
	_, err := r.readValue()
	require.NoError(t, err)
	require.NoError(t, r.atEnd())
	r.reset(nil)
	gone := weak.Make(&body[0])
	body = nil
	runtime.GC()
	runtime.GC()
	assert.Nil(t, gone.Value(), "the answer is still reachable from a reset reader")
	runtime.KeepAlive(&r)
}

// TestLiteralsCostNoCopy: reading true, false and null allocates nothing,
// however many the answer holds; a reader that copied the rest of the
// answer for each (as string(b[i:]) does) allocated 270 MB for these.
func TestLiteralsCostNoCopy(t *testing.T) {
	body := []byte(`[` + strings.Repeat(`true,false,null,`, 3333) + `null]`)
	var r jsonReader
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r.reset(body)
	_, err := r.readValue()
	require.NoError(t, err)
	require.NoError(t, r.atEnd())
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(len(body)), "bytes allocated reading %d bytes of literals", len(body))
}
