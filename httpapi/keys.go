package httpapi

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// keyRe is the shape of an LMN API key: environment, then 16 to 64 characters.
var keyRe = regexp.MustCompile(`^lmn_(stg|live)_[a-z0-9]{16,64}$`)

// Keys is the set of API keys this deployment accepts. Only their SHA-256
// hashes are held, so a heap dump or a log line cannot leak a key.
type Keys struct {
	env    string // "stg" or "live": a key of the other environment is invalid
	hashes [][32]byte
}

// NewKeys returns an empty key set for env ("stg" or "live").
func NewKeys(env string) *Keys { return &Keys{env: env} }

// Add accepts key. It must have the LMN key shape and this environment.
func (k *Keys) Add(key string) error {
	key = strings.TrimSpace(key)
	if !keyRe.MatchString(key) {
		return fmt.Errorf("API key %s…: not of the form lmn_<stg|live>_<16 to 64 lowercase letters or digits>", redact(key))
	}
	if !strings.HasPrefix(key, "lmn_"+k.env+"_") {
		return fmt.Errorf("API key %s…: not a key of the %q environment", redact(key), k.env)
	}
	k.hashes = append(k.hashes, sha256.Sum256([]byte(key)))
	return nil
}

// AddFrom reads one key per line; blank lines and # comments are skipped.
func (k *Keys) AddFrom(r io.Reader) error {
	sc := bufio.NewScanner(r)
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

// Len is how many keys are accepted.
func (k *Keys) Len() int { return len(k.hashes) }

// Valid reports whether key is accepted. It compares against every key in
// constant time so response timing does not reveal how close a guess was.
func (k *Keys) Valid(key string) bool {
	h := sha256.Sum256([]byte(key))
	ok := 0
	for i := range k.hashes {
		ok |= subtle.ConstantTimeCompare(h[:], k.hashes[i][:])
	}
	return ok == 1
}

func redact(key string) string {
	if len(key) > 8 {
		return key[:8]
	}
	return ""
}
