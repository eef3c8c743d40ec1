package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/registry"
)

func TestExtract(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		check   func(t *testing.T, out map[string]any)
	}{
		{args: []string{"-source", "glovis", "-kind", "list", "-date", "2025-06-20", "../../testdata/glovis/list-live.html"},
			check: func(t *testing.T, out map[string]any) {
				lots := out["data"].([]any)
				require.Len(t, lots, 4)
				lot := lots[0].(map[string]any)
				// The first lot of list-live.html, read off the page: 4,210 만원 at 1,350 won per dollar.
				assert.Equal(t, "glovis_20250620_3100_1001", lot["id"])
				assert.Equal(t, "glovis", lot["source"])
				assert.Nil(t, lot["dealer_source"])
				assert.Equal(t, 31687.0, lot["mileage_km"])
				assert.Equal(t, map[string]any{"listing_price": 31185.0}, lot["pricing"])
				assert.Equal(t, "2025-06-20T13:00:00+09:00", lot["auction"].(map[string]any)["date"])
				assert.Nil(t, lot["listed_at"], "unknown is null, not a zero time")
			}},
		{args: []string{"-source", "glovis", "-kind", "list", "-date", "2025-06-20", "-raw", "../../testdata/glovis/list-live.html"},
			check: func(t *testing.T, out map[string]any) {
				assert.Equal(t, 4.0, out["Total"], "the internal form keeps the page's total")
				assert.Equal(t, 42_100_000.0, out["Lots"].([]any)[0].(map[string]any)["Vehicle"].(map[string]any)["PriceKRW"])
			}},
		{args: []string{"-source", "encar", "-kind", "detail", "-fx-rate", "1000", "../../testdata/encar/detail-page.html"},
			check: func(t *testing.T, out map[string]any) {
				assert.Equal(t, "encar_41230001", out["id"])
				assert.Equal(t, "dealer", out["source"])
				assert.Equal(t, "encar", out["dealer_source"])
				assert.Equal(t, "https://fem.encar.com/cars/detail/41230001", out["source_url"])
				pricing := out["pricing"].(map[string]any)
				assert.Equal(t, 1000.0, pricing["fx_rate"])
				assert.Equal(t, pricing["listing_price_krw"].(float64)/1000, pricing["listing_price"])
			}},
		{args: []string{"-source", "danawa", "-kind", "list", "../../testdata/danawa/list-rows.html"},
			check: func(t *testing.T, out map[string]any) {
				rows := out["data"].([]any)
				require.Len(t, rows, 7)
				assert.Equal(t, "danawa_kcar-1001", rows[0].(map[string]any)["id"])
			}},
		{args: []string{"-source", "glovis", "-kind", "detail", "../../testdata/glovis/detail-unsold.html"},
			check: func(t *testing.T, out map[string]any) {
				assert.Equal(t, "KMTGB41CDRU000001", out["vin"])
				assert.Equal(t, "2023-06", out["first_registration"])
			}},
		{args: []string{"-source", "glovis", "-kind", "list", "../../testdata/glovis/list-login.html"}, wantErr: "glovis list: login required"},
		{args: []string{"-source", "glovis", "-kind", "list", "../../testdata/glovis/list-live.html"}, wantErr: "give -date"},
		{args: []string{"-source", "encar", "-kind", "detail", "../../testdata/encar/detail-drift-no-status.json"}, wantErr: "encar detail: drift: missing advertisement.status"},
		{args: []string{"-source", "encar", "-kind", "detail", "../../testdata/encar/detail-sold.json"}, wantErr: "encar detail: not found"},
		{args: []string{"-source", "danawa", "-kind", "list", "../../testdata/danawa/list-bot-check.html"}, wantErr: "danawa list: blocked"},
		{args: []string{"-source", "danawa", "-kind", "detail", "x"}, wantErr: "no detail page"},
		{args: []string{"-source", "kcar", "-kind", "list", "../../testdata/kcar/list-weekly-laneB-2026-04.json"},
			check: func(t *testing.T, out map[string]any) {
				rows := out["data"].([]any)
				require.Len(t, rows, 100)
				// Exhibit 2023 of the real answer: AUC_STRT_PRC 9500000 won, at 1,350 won per dollar.
				row := rows[22].(map[string]any)
				assert.Equal(t, "kcar_ac20260409_2023", row["id"])
				assert.Equal(t, map[string]any{"listing_price": 7037.0}, row["pricing"])
				assert.Equal(t, "2026-04-30T13:00:00+09:00", row["auction"].(map[string]any)["date"])
				assert.Equal(t, "Osan", row["auction"].(map[string]any)["site"])
			}},
		{args: []string{"-source", "kcar", "-kind", "list", "../../testdata/kcar/list-login.html"}, wantErr: "kcar list: login required"},
		{args: []string{"-source", "kcar", "-kind", "detail", "x"}, wantErr: "never read"},
		{args: []string{"-source", "sk", "x"}, wantErr: "unknown -source"},
		{args: []string{"-source", "encar", "no-such-file"}, wantErr: "no such file"},
		{args: []string{"-source", "encar", "-fx-rate", "0", "x"}, wantErr: "fx-rate"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), append([]string{"extract"}, tc.args...), noenv, &stdout, &stderr)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			var out map[string]any
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &out))
			tc.check(t, out)
		})
	}
}

// TestExtractHelp: -h prints the usage and is not a failure.
func TestExtractHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"extract", "-h"}, noenv, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "usage: aggregator extract")
}

// TestEverySourceSaysHowItsPagesAreRead: extract knows a source only by
// its description, so each registered source gives, for its list and its
// detail page, either an extractor or why that page is never read.
func TestEverySourceSaysHowItsPagesAreRead(t *testing.T) {
	all := registry.All()
	require.NotEmpty(t, all)
	for _, d := range all {
		for kind, p := range map[string]registry.Page{"list": d.Pages.List, "detail": d.Pages.Detail} {
			assert.True(t, (p.Extract == nil) != (p.Never == ""), "%s %s page: an extractor or why there is none, not both", d.Name, kind)
		}
		assert.NotNil(t, d.Pages.List.Extract, "%s: every source's rows come from a list", d.Name)
	}
}
