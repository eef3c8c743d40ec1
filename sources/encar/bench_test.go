package encar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/lmn/aggregator/internal/golden"
	"github.com/lmn/aggregator/sim"
	"github.com/lmn/aggregator/vehicle"
)

// simAnswer is the simulator's Encar search answer to s, asked the way
// Client.Search asks: the same shape as the real list/general answers
// (unused arrays, photo objects, numbers as ints, floats and strings), with
// the simulator's inventory in it.
func simAnswer(b *testing.B, s Search) []byte {
	b.Helper()
	rec := httptest.NewRecorder()
	sim.New().Encar().ServeHTTP(rec, httptest.NewRequest("GET", "/search/car/list/general?count=true&q="+
		url.QueryEscape(Expression(s))+"&sr="+url.QueryEscape(fmt.Sprintf("|%s|%d|%d", SortCode(s.Sort), s.Offset, s.Count)), nil))
	body := rec.Body.Bytes()
	l, err := ExtractList(body, s.Offset, s.Count)
	if err != nil || l.Raw != s.Count {
		b.Fatalf("sim answer: %d rows, %v", l.Raw, err)
	}
	return body
}

func benchmarkExtractList(b *testing.B, s Search) {
	body := simAnswer(b, s)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ExtractList(body, s.Offset, s.Count); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtractList50 decodes the answer a dealer request reads
// (make=Hyundai&sort=price_asc&limit=50: one Encar call of 50 rows).
func BenchmarkExtractList50(b *testing.B) {
	benchmarkExtractList(b, Search{Makes: []string{"Hyundai"}, Sort: vehicle.SortPriceAsc, Count: 50})
}

// BenchmarkExtractListCapture decodes a real 200-row answer of Encar's
// mobile list (873 KB): unlike the simulator's answers it is full of
// true, false and null, and of members no row reads.
func BenchmarkExtractListCapture(b *testing.B) {
	body := golden.Capture(b, "encar/search-list-mobile-200.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ExtractList(body, 0, 200); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtractList500 decodes a 500-row search answer, the largest
// Encar serves (budget: a few ms).
func BenchmarkExtractList500(b *testing.B) {
	benchmarkExtractList(b, Search{Count: 500})
}

// BenchmarkDecodeList measures the decoding alone (no checks, no dictionary,
// no vehicles), of the same answers, by each way considered: encoding/json
// into the row structs (what ExtractList used), the same structs through
// github.com/go-json-experiment/json (the v2 engine GOEXPERIMENT=jsonv2
// puts under encoding/json) with encoding/json's semantics and with v2's own
// lenient options, v2's tokenizer alone (jsontext, which the token reader
// was built on before it had its own: a bound on what a decoder on it can
// do), and the token reader ExtractList uses.
func BenchmarkDecodeList(b *testing.B) {
	for _, size := range []struct {
		name string
		s    Search
	}{
		{"50", Search{Makes: []string{"Hyundai"}, Sort: vehicle.SortPriceAsc, Count: 50}},
		{"500", Search{Count: 500}},
	} {
		body := simAnswer(b, size.s)
		run := func(name string, decode func() error) {
			b.Run(size.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if err := decode(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		run("encoding-json", func() error {
			var p refPage
			return json.Unmarshal(body, &p)
		})
		run("json-v2-v1-semantics", func() error {
			var p refPage
			return jsonv2.Unmarshal(body, &p, jsonv1.DefaultOptionsV1())
		})
		run("json-v2", func() error {
			var p refPage
			return jsonv2.Unmarshal(body, &p, jsonv2.MatchCaseInsensitiveNames(true),
				jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
		})
		run("jsontext-tokens-only", func() error {
			dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
			for {
				switch _, err := dec.ReadToken(); err {
				case nil:
				case io.EOF:
					return nil
				default:
					return err
				}
			}
		})
		run("token-reader", func() error {
			d := newListDecoder(body)
			defer d.release()
			var p listPage
			return d.page(&p, size.s.Count)
		})
	}
}
