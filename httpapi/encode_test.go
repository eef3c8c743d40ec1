package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/vehicle"
)

// listJSON is the search page shape as encoding/json sees it.
type listJSON struct {
	Data       []summaryJSON `json:"data"`
	NextCursor *string       `json:"next_cursor"`
}

var awkward = []string{"", "plain", "따옴표\"와 역슬래시\\", "줄\n바꿈\r\t탭", "\x00\x01\x1f\x7f", "<b>&amp;</b>",
	"bad \xff utf8 \xc3", "line\u2028sep\u2029", "이모지 🚗", "세미오토"}

func randomVehicle(r *rand.Rand) vehicle.Vehicle {
	pick := func() string { return awkward[r.IntN(len(awkward))] }
	v := vehicle.Vehicle{ID: pick(), Source: []vehicle.Source{vehicle.Glovis, vehicle.Encar, vehicle.Danawa}[r.IntN(3)],
		Make: pick(), Model: pick(), Trim: pick(), Year: r.IntN(3000) - 5, MileageKm: r.IntN(1 << 30), Fuel: pick(),
		Transmission: pick(), Color: pick(), EngineCC: r.IntN(3) * 999, Drivetrain: pick(), AccidentGrade: pick(),
		ExteriorGrade: pick(), PriceKRW: r.Int64N(1<<40) * int64(r.IntN(2)), PhotoURL: pick()}
	for range r.IntN(3) {
		v.Options = append(v.Options, pick())
	}
	if r.IntN(2) == 0 {
		v.ListedAt = time.Unix(r.Int64N(1<<31), 0)
	}
	if r.IntN(2) == 0 {
		v.Auction = &vehicle.Auction{Date: time.Unix(r.Int64N(1<<31), 0), Site: pick(), LotNumber: r.IntN(9999),
			Round: r.IntN(3) * r.IntN(999), Status: pick(), Count: r.IntN(5)}
	}
	return v
}

// TestWriteListMatchesEncodingJSON: the hand-written encoder produces the
// same bytes as summary() through encoding/json, for pages full of awkward
// strings, empty and zero values.
func TestWriteListMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		var rows []vehicle.Vehicle
		body := listJSON{Data: []summaryJSON{}}
		for range r.IntN(5) {
			v := randomVehicle(r)
			rows = append(rows, v)
			body.Data = append(body.Data, summary(&v, 1350))
		}
		if r.IntN(2) == 0 {
			c := awkward[r.IntN(len(awkward))]
			body.NextCursor = &c
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(body))
		rec := httptest.NewRecorder()
		writeList(rec, rows, 1350, body.NextCursor)
		require.Equal(t, want.String(), rec.Body.String())
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, encoding/json says %s", s, got, want)
		}
	})
}

// TestUnknownPriceAndRoundAreNull: a lot whose auction published no start
// price and numbers no rounds (K Car) says so with null, in a list and in
// a detail, never with a 0 that reads as a free car or a round zero.
func TestUnknownPriceAndRoundAreNull(t *testing.T) {
	v := vehicle.Vehicle{ID: "kcar_ac20260409_2001", Source: vehicle.KCar, Make: "Kia", Model: "Morning", Year: 2020,
		Auction: &vehicle.Auction{Date: time.Date(2026, 4, 9, 13, 0, 0, 0, vehicle.KST), Site: "Osan", LotNumber: 2001,
			Status: "upcoming", Count: 1}}
	rec := httptest.NewRecorder()
	writeList(rec, []vehicle.Vehicle{v}, 1350, nil)
	var list struct {
		Data []struct {
			Auction map[string]any `json:"auction"`
			Pricing map[string]any `json:"pricing"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	require.Len(t, list.Data, 1)
	require.Contains(t, list.Data[0].Pricing, "listing_price")
	require.Nil(t, list.Data[0].Pricing["listing_price"])
	require.Contains(t, list.Data[0].Auction, "round")
	require.Nil(t, list.Data[0].Auction["round"])

	d, err := json.Marshal(detail(&v, 1350))
	require.NoError(t, err)
	require.Contains(t, string(d), `"pricing":{"listing_price":null,"fx_rate":1350,"listing_price_krw":null}`)

	v.PriceKRW, v.Auction.Round = 13_500_000, 946
	d, err = json.Marshal(detail(&v, 1350))
	require.NoError(t, err)
	require.Contains(t, string(d), `"pricing":{"listing_price":10000,"fx_rate":1350,"listing_price_krw":13500000}`)
	require.Contains(t, string(d), `"round":946`)
}
