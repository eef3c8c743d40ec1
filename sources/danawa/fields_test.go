package danawa

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

func TestWholeNumber(t *testing.T) {
	for _, c := range []struct {
		in, unit string
		want     int
		ok       bool
	}{
		{"79,959km", "km", 79959, true},
		{"79959km", "km", 79959, true},
		{"1,234,567km", "km", 1234567, true},
		{"0km", "km", 0, true},
		{"3,750", "", 3750, true},
		{"669", "", 669, true},
		{"79.959km", "km", 0, false},
		{"79,95km", "km", 0, false},
		{"1234,567km", "km", 0, false},
		{",123", "", 0, false},
		{"123,", "", 0, false},
		{"km", "km", 0, false},
		{"79,959", "km", 0, false},
		{"79,959KM", "km", 0, false}, // read by sources.Quantity after lower-casing
		{" 3,750 ", "", 0, false},    // read by sources.Quantity after trimming
		{"-3,750", "", 0, false},
		{"상담", "", 0, false},
		{"1234567890123456", "", 0, false}, // over 15 characters
	} {
		n, ok := wholeNumber([]byte(c.in), c.unit)
		assert.Equal(t, [2]any{c.want, c.ok}, [2]any{n, ok}, "%q", c.in)
		if ok {
			// What it reads, the general reader reads alike.
			q, qok := sources.Quantity(c.in, "", c.unit)
			assert.Equal(t, [2]any{c.want, true}, [2]any{q, qok}, "%q by sources.Quantity", c.in)
		}
	}
}

func TestModelYear(t *testing.T) {
	for in, want := range map[string]int{"2021": 2021, "1999": 1999, "1899": 0, "2121": 0, "21": 0, "２０２１": 0, "20२1": 0} {
		n, ok := modelYear([]byte(in))
		assert.Equal(t, want, n, "%q", in)
		assert.Equal(t, want != 0, ok, "%q", in)
	}
}

func TestListedOn(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2025.06.12": time.Date(2025, 6, 12, 0, 0, 0, 0, vehicle.KST),
		"2024.02.29": time.Date(2024, 2, 29, 0, 0, 0, 0, vehicle.KST),
		"2025.02.29": {},
		"2025.13.01": {},
		"2025.6.12":  {},
		"06/12":      {},
		"2025-06-12": {},
	} {
		got, ok := listedOn([]byte(in))
		assert.Equal(t, !want.IsZero(), ok, "%q", in)
		assert.True(t, want.Equal(got), "%q: %v", in, got)
	}
}

func TestIsIDAndAlnum(t *testing.T) {
	for in, want := range map[string]bool{"1001": true, "abc_DEF-9": true, "": false, "10 01": false, "１００１": false,
		strings.Repeat("9", 48): true, strings.Repeat("9", 49): false, "a.b": false} {
		assert.Equal(t, want, isID(in), "%q", in)
	}
	for in, want := range map[string]string{"kcar": "kcar", "kb-chachacha": "kbchachacha", "k car!": "kcar", "케이카": "", "Kcar": "car"} {
		assert.Equal(t, want, alnum(in), "%q", in)
	}
}
