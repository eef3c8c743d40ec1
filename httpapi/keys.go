package httpapi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

// keyRe is the shape of an LMN API key: environment, then 16 to 64 characters.
var keyRe = regexp.MustCompile(`^lmn_(stg|live)_[a-z0-9]{16,64}$`)

// partnerRe bounds partner names: they are metric label values.
var partnerRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// MaxAllow is the most addresses or ranges one key's allowlist may hold.
const MaxAllow = 16

// LinePartner is the partner of keys given one per line or by -api-keys:
// that form names no partner.
const LinePartner = "default"

// Key is one accepted key with what applies to it. The key itself is not
// held, only its SHA-256, so a heap dump or a log line cannot leak it.
type Key struct {
	Partner string
	// ID is the start of the key's SHA-256 in hex: it names the key to the
	// rate limiter and in logs without revealing it.
	ID    string
	Allow []netip.Prefix // empty: any address
	Rate  Rate           // zero: not limited
	hash  [32]byte
}

// allows reports whether addr may use the key.
func (k *Key) allows(addr netip.Addr) bool {
	if len(k.Allow) == 0 {
		return true
	}
	for _, p := range k.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Keys is the set of API keys this deployment accepts. Readers see one
// whole set at a time: Replace swaps in a reloaded set at once, so a key
// that is no longer in the file stops working with the next request.
type Keys struct {
	env string
	def Rate

	mu  sync.Mutex // serialises writers
	set atomic.Pointer[[]*Key]
}

// NewKeys returns an empty key set for env ("stg" or "live"). Its keys are
// not rate limited unless they name a rate or SetDefaultRate gives one
// (serve always does, from its flags).
func NewKeys(env string) *Keys {
	k := &Keys{env: env}
	k.set.Store(&[]*Key{})
	return k
}

// SetDefaultRate sets the rate of keys added afterwards that name none.
func (k *Keys) SetDefaultRate(r Rate) error {
	if err := r.Check(); err != nil {
		return err
	}
	k.def = r
	return nil
}

// Entry is one key of the JSON keys file: the key itself or its SHA-256.
type Entry struct {
	Partner string   `json:"partner"`
	Key     string   `json:"key,omitempty"`
	SHA256  string   `json:"sha256,omitempty"`
	Allow   []string `json:"allow,omitempty"`
	Rate    *Rate    `json:"rate,omitempty"`
}

// Add accepts key for the partner LinePartner. It must have the LMN key
// shape and this environment.
func (k *Keys) Add(key string) error {
	return k.AddEntry(Entry{Partner: LinePartner, Key: strings.TrimSpace(key)})
}

// AddEntry accepts one key with its partner, allowlist and rate.
func (k *Keys) AddEntry(e Entry) error {
	key, err := k.parse(e)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	old := *k.set.Load()
	for _, o := range old {
		if o.hash == key.hash {
			return fmt.Errorf("key %s… of partner %q: listed twice", key.ID, e.Partner)
		}
	}
	set := append(old[:len(old):len(old)], key)
	k.set.Store(&set)
	return nil
}

func (k *Keys) parse(e Entry) (*Key, error) {
	if !partnerRe.MatchString(e.Partner) {
		return nil, fmt.Errorf("partner %q: want 1 to 32 lowercase letters, digits, _ or -", e.Partner)
	}
	key := &Key{Partner: e.Partner, Rate: k.def}
	switch {
	case e.Key != "" && e.SHA256 != "":
		return nil, fmt.Errorf("partner %q: give key or sha256, not both", e.Partner)
	case e.Key != "":
		if !keyRe.MatchString(e.Key) {
			return nil, fmt.Errorf("partner %q: API key %s…: not of the form lmn_<stg|live>_<16 to 64 lowercase letters or digits>", e.Partner, redact(e.Key))
		}
		if !strings.HasPrefix(e.Key, "lmn_"+k.env+"_") {
			return nil, fmt.Errorf("partner %q: API key %s…: not a key of the %q environment", e.Partner, redact(e.Key), k.env)
		}
		key.hash = sha256.Sum256([]byte(e.Key))
	case e.SHA256 != "":
		b, err := hex.DecodeString(e.SHA256)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("partner %q: sha256 must be 64 hex digits (aggregator keys hash prints it)", e.Partner)
		}
		copy(key.hash[:], b)
	default:
		return nil, fmt.Errorf("partner %q: an entry needs key or sha256", e.Partner)
	}
	key.ID = hex.EncodeToString(key.hash[:6])
	if len(e.Allow) > MaxAllow {
		return nil, fmt.Errorf("partner %q: allow lists %d addresses; at most %d", e.Partner, len(e.Allow), MaxAllow)
	}
	for _, a := range e.Allow {
		p, err := parsePrefix(a)
		if err != nil {
			return nil, fmt.Errorf("partner %q: allow: %w", e.Partner, err)
		}
		key.Allow = append(key.Allow, p)
	}
	if e.Rate != nil {
		if err := e.Rate.Check(); err != nil {
			return nil, fmt.Errorf("partner %q: %w", e.Partner, err)
		}
		key.Rate = *e.Rate
	}
	return key, nil
}

// parsePrefix reads an address ("203.0.113.7") or a range ("203.0.113.0/24").
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR range", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR range", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// AddFrom reads a keys file: the JSON form {"keys": [Entry, …]} when it
// starts with "{", otherwise one key per line with blank lines and
// # comments skipped.
func (k *Keys) AddFrom(r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return err
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		var f struct {
			Keys []Entry `json:"keys"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			// The decoder's message quotes no key material: it names the
			// field or offset that is wrong.
			return fmt.Errorf("not a keys file of the form {\"keys\": [{\"partner\": …, \"key\" or \"sha256\": …}]}: %w", err)
		}
		for i, e := range f.Keys {
			if err := k.AddEntry(e); err != nil {
				return fmt.Errorf("keys[%d]: %w", i, err)
			}
		}
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := k.Add(line); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	return sc.Err()
}

// Replace makes k accept exactly the keys of from, at once.
func (k *Keys) Replace(from *Keys) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.set.Store(from.set.Load())
}

// Len is how many keys are accepted.
func (k *Keys) Len() int { return len(*k.set.Load()) }

// Partners lists the partners of the accepted keys.
func (k *Keys) Partners() []string {
	seen := map[string]bool{}
	var out []string
	for _, key := range *k.set.Load() {
		if !seen[key.Partner] {
			seen[key.Partner] = true
			out = append(out, key.Partner)
		}
	}
	return out
}

// Lookup returns the accepted key, or nil. It compares against every key in
// constant time so response timing does not reveal how close a guess was.
func (k *Keys) Lookup(key string) *Key {
	if !strings.HasPrefix(key, "lmn_"+k.env+"_") || !keyRe.MatchString(key) {
		return nil // another environment's key, even when listed by its hash
	}
	h := sha256.Sum256([]byte(key))
	var found *Key
	for _, c := range *k.set.Load() {
		if subtle.ConstantTimeCompare(h[:], c.hash[:]) == 1 {
			found = c
		}
	}
	return found
}

// Valid reports whether key is accepted.
func (k *Keys) Valid(key string) bool { return k.Lookup(key) != nil }

// HashKey returns the sha256 form of a key for the keys file. It checks the
// key's shape so that a stray newline or a typo is not hashed silently.
func HashKey(key string) (string, error) {
	if !keyRe.MatchString(key) {
		return "", errors.New("not an API key of the form lmn_<stg|live>_<16 to 64 lowercase letters or digits>")
	}
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:]), nil
}

func redact(key string) string {
	if len(key) > 8 {
		return key[:8]
	}
	return ""
}
