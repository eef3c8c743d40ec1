package cursor

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return "not a cursor error: " + err.Error()
}

func TestRoundTripAndRefusals(t *testing.T) {
	now := time.Date(2025, 6, 20, 12, 0, 0, 0, time.UTC)
	c, err := NewCodec("new-secret", "old-secret")
	require.NoError(t, err)
	c.SetClock(func() time.Time { return now })
	st := State{Sort: "price_asc", Query: "q1", Sources: "glovis", Partner: "p1", After: &After{ID: "glovis_20250620_3100_1001", Price: 42100000}}
	tok := c.Encode(st)
	assert.NotContains(t, tok, "=", "URL-safe without padding")
	assert.NotContains(t, tok, "+")
	assert.NotContains(t, tok, "/")

	got, err := c.Decode(tok, "p1", "price_asc", "q1", "glovis")
	require.NoError(t, err)
	assert.Equal(t, st.After, got.After)

	for name, tc := range map[string]struct {
		tok, sort, query, sources, want string
		partner                         string
	}{
		"partner":             {tok, "price_asc", "q1", "glovis", PartnerMismatch, "p2"},
		"partner before sort": {tok, "price_desc", "q2", "dealer", PartnerMismatch, "p2"},
		"sort":                {tok, "price_desc", "q1", "glovis", SortMismatch, ""},
		"filters":             {tok, "price_asc", "q2", "glovis", QueryMismatch, ""},
		"sources":             {tok, "price_asc", "q1", "dealer", SourceMismatch, ""},
		"garbage":             {"hello", "price_asc", "q1", "glovis", Malformed, ""},
		"version":             {"2" + tok[1:], "price_asc", "q1", "glovis", Malformed, ""},
		"bad b64":             {tok + "!", "price_asc", "q1", "glovis", Malformed, ""},
		"tampered":            {tamper(tok), "price_asc", "q1", "glovis", BadSignature, ""},
		"truncated":           {tok[:len(tok)-4], "price_asc", "q1", "glovis", BadSignature, ""},
	} {
		if tc.partner == "" {
			tc.partner = "p1"
		}
		_, err := c.Decode(tc.tok, tc.partner, tc.sort, tc.query, tc.sources)
		assert.Equal(t, tc.want, reason(err), name)
	}

	now = now.Add(TTL + time.Second)
	_, err = c.Decode(tok, "p1", "price_asc", "q1", "glovis")
	assert.Equal(t, Expired, reason(err))
}

// tamper changes one character of the payload, keeping it valid base64.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	b := []byte(parts[1])
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	parts[1] = string(b)
	return strings.Join(parts, ".")
}

func TestRotation(t *testing.T) {
	old, _ := NewCodec("old-secret")
	tok := old.Encode(State{Sort: "s", Query: "q", Sources: "glovis"})
	rotated, _ := NewCodec("new-secret", "old-secret")
	_, err := rotated.Decode(tok, "", "s", "q", "glovis")
	assert.NoError(t, err, "a cursor signed with a previous secret stays valid")
	dropped, _ := NewCodec("new-secret")
	_, err = dropped.Decode(tok, "", "s", "q", "glovis")
	assert.Equal(t, BadSignature, reason(err), "once the old secret is dropped")
	_, err = NewCodec("", "")
	assert.Error(t, err)
}

func FuzzDecode(f *testing.F) {
	c, _ := NewCodec("secret")
	f.Add(c.Encode(State{Sort: "price_asc", Query: "q", Sources: "glovis", After: &After{ID: "x"}}))
	f.Add("1..")
	f.Add("1.e30.e30")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := c.Decode(s, "", "price_asc", "q", "glovis")
		if err == nil && (st.Sort != "price_asc" || st.Sources != "glovis") {
			t.Fatalf("accepted a cursor for another query: %+v", st)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not a cursor.Error: %v", err)
			}
		}
	})
}
