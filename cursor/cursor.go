// Package cursor mints and checks pagination cursors: versioned, URL-safe,
// HMAC-signed, expiring, and bound to the query they were minted for.
package cursor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// TTL is how long a cursor stays valid.
const TTL = 30 * time.Minute

const version = "1"

// Reasons a cursor is refused, as sent in invalid_cursor's details.reason.
const (
	Malformed      = "malformed"
	BadSignature   = "bad_signature"
	Expired        = "expired"
	SortMismatch   = "sort_mismatch"
	QueryMismatch  = "query_mismatch"
	SourceMismatch = "source_mismatch"
	// PartnerMismatch: minted for another partner's key.
	PartnerMismatch = "partner_mismatch"
)

// Error is a refused cursor.
type Error struct{ Reason string }

func (e *Error) Error() string { return "invalid cursor: " + e.Reason }

// After is the position after the last row of a page, in sort-key terms, so
// that the next page starts right after it even if the index changed.
type After struct {
	ID        string `json:"id"`
	Date      int64  `json:"d,omitempty"` // auction date, unix seconds
	Listed    int64  `json:"l,omitempty"` // listed_at, unix seconds
	Price     int64  `json:"p,omitempty"` // won
	Year      int    `json:"y,omitempty"`
	MileageKm int    `json:"k,omitempty"`
}

// State is what a cursor carries.
type State struct {
	Sort    string         `json:"s"`
	Query   string         `json:"q"`            // digest of the filters
	Sources string         `json:"src"`          // the source set, e.g. "glovis" or "encar,danawa"
	Partner string         `json:"pt,omitempty"` // digest of the partner it was minted for
	After   *After         `json:"a,omitempty"`
	Hints   map[string]int `json:"h,omitempty"` // per dealer source, where reading may resume
	// Pinned are the dealer sources that answered page 1: a source that was
	// down then is not mixed back in later.
	Pinned  []string `json:"pin,omitempty"`
	Expires int64    `json:"e"`
}

// Codec signs with the first secret and accepts any, so secrets can rotate.
type Codec struct {
	secrets [][]byte
	now     func() time.Time
}

// NewCodec returns a codec. At least one non-empty secret is required.
func NewCodec(secrets ...string) (*Codec, error) {
	c := &Codec{now: time.Now}
	for _, s := range secrets {
		if s != "" {
			c.secrets = append(c.secrets, []byte(s))
		}
	}
	if len(c.secrets) == 0 {
		return nil, errors.New("cursor: no secret")
	}
	return c, nil
}

// SetClock replaces the clock (for tests).
func (c *Codec) SetClock(now func() time.Time) { c.now = now }

// Encode mints a cursor for st, expiring TTL from now.
func (c *Codec) Encode(st State) string {
	st.Expires = c.now().Add(TTL).Unix()
	payload, _ := json.Marshal(st) // State has only marshalable fields
	body := version + "." + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(c.sign(c.secrets[0], body))
}

func (c *Codec) sign(secret []byte, body string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Decode checks a cursor's signature and expiry and that it was minted for
// the same partner, sort, filters and sources as the request carrying it.
func (c *Codec) Decode(s, partner, sort, query, sources string) (State, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != version {
		return State{}, &Error{Malformed}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return State{}, &Error{Malformed}
	}
	body := parts[0] + "." + parts[1]
	ok := false
	for _, secret := range c.secrets {
		if hmac.Equal(sig, c.sign(secret, body)) {
			ok = true
		}
	}
	if !ok {
		return State{}, &Error{BadSignature}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return State{}, &Error{Malformed}
	}
	var st State
	if err := json.Unmarshal(payload, &st); err != nil {
		return State{}, &Error{Malformed}
	}
	switch {
	case c.now().Unix() > st.Expires:
		return State{}, &Error{Expired}
	case st.Partner != partner:
		return State{}, &Error{PartnerMismatch}
	case st.Sort != sort:
		return State{}, &Error{SortMismatch}
	case st.Sources != sources:
		return State{}, &Error{SourceMismatch}
	case st.Query != query:
		return State{}, &Error{QueryMismatch}
	}
	return st, nil
}

// Digest summarises filter values into a short, order-insensitive string for
// State.Query.
func Digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}
