package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtract(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		check   func(t *testing.T, out map[string]any)
	}{
		{args: []string{"-source", "glovis", "-kind", "list", "-date", "2025-06-20", "../../testdata/glovis/list-live.html"},
			check: func(t *testing.T, out map[string]any) {
				lots := out["Lots"].([]any)
				require.Len(t, lots, 4)
				assert.Equal(t, "glovis_20250620_3100_1001", lots[0].(map[string]any)["Vehicle"].(map[string]any)["ID"])
			}},
		{args: []string{"-source", "encar", "-kind", "detail", "../../testdata/encar/detail-page.html"},
			check: func(t *testing.T, out map[string]any) { assert.Equal(t, "encar_41230001", out["ID"]) }},
		{args: []string{"-source", "danawa", "-kind", "list", "../../testdata/danawa/list-rows.html"},
			check: func(t *testing.T, out map[string]any) { assert.Len(t, out["Rows"], 7) }},
		{args: []string{"-source", "glovis", "-kind", "list", "../../testdata/glovis/list-login.html"}, wantErr: "glovis list: login required"},
		{args: []string{"-source", "glovis", "-kind", "list", "../../testdata/glovis/list-live.html"}, wantErr: "give -date"},
		{args: []string{"-source", "encar", "-kind", "detail", "../../testdata/encar/detail-drift-no-status.json"}, wantErr: "encar detail: drift: missing advertisement.status"},
		{args: []string{"-source", "encar", "-kind", "detail", "../../testdata/encar/detail-sold.json"}, wantErr: "encar detail: not found"},
		{args: []string{"-source", "danawa", "-kind", "list", "../../testdata/danawa/list-bot-check.html"}, wantErr: "danawa list: blocked"},
		{args: []string{"-source", "danawa", "-kind", "detail", "x"}, wantErr: "no detail page"},
		{args: []string{"-source", "kcar", "x"}, wantErr: "unknown -source"},
		{args: []string{"-source", "encar", "no-such-file"}, wantErr: "no such file"},
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
