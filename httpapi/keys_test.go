package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/httpapi"
)

func TestKeysFile(t *testing.T) {
	sum := sha256.Sum256([]byte(betaKey)) // the hashed form, computed here and not by the code
	keys := httpapi.NewKeys("stg")
	require.NoError(t, keys.SetDefaultRate(httpapi.Rate{PerSecond: 3, Burst: 7}))
	require.NoError(t, keys.AddFrom(strings.NewReader(`{"keys": [
		{"partner": "acme", "key": "`+acmeKey+`", "allow": ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"], "rate": {"per_second": 10, "burst": 20}},
		{"partner": "beta", "sha256": "`+strings.ToUpper(hex.EncodeToString(sum[:]))+`"}]}`)))
	require.Equal(t, 2, keys.Len())
	acme := keys.Lookup(acmeKey)
	require.NotNil(t, acme)
	assert.Equal(t, "acme", acme.Partner)
	assert.Equal(t, httpapi.Rate{PerSecond: 10, Burst: 20}, acme.Rate)
	assert.Len(t, acme.Allow, 3)
	beta := keys.Lookup(betaKey)
	require.NotNil(t, beta, "a key listed by its sha256")
	assert.Equal(t, "beta", beta.Partner)
	assert.Equal(t, httpapi.Rate{PerSecond: 3, Burst: 7}, beta.Rate, "the default rate")
	assert.Nil(t, keys.Lookup("lmn_stg_acme0000000000000009"))
	assert.Nil(t, keys.Lookup(""))
	assert.NotContains(t, acme.ID, "acme", "the id does not reveal the key")
	assert.Equal(t, []string{"acme", "beta"}, keys.Partners())

	// A key of the other environment is invalid even when listed by hash.
	live := sha256.Sum256([]byte(otherEnv))
	k2 := httpapi.NewKeys("stg")
	require.NoError(t, k2.AddFrom(strings.NewReader(`{"keys": [{"partner": "x", "sha256": "`+hex.EncodeToString(live[:])+`"}]}`)))
	assert.Nil(t, k2.Lookup(otherEnv))

	// Replace swaps the whole set: a key that is gone stops at once.
	next := httpapi.NewKeys("stg")
	require.NoError(t, next.Add(betaKey))
	keys.Replace(next)
	assert.Nil(t, keys.Lookup(acmeKey))
	require.NotNil(t, keys.Lookup(betaKey))
	assert.Equal(t, httpapi.LinePartner, keys.Lookup(betaKey).Partner)
}

func TestKeysLineFile(t *testing.T) {
	keys := httpapi.NewKeys("stg")
	require.NoError(t, keys.AddFrom(strings.NewReader("# partners\n\n"+acmeKey+"\n  "+betaKey+"  \n")))
	assert.Equal(t, 2, keys.Len())
	assert.True(t, keys.Valid(acmeKey))
	assert.True(t, keys.Valid(betaKey))
	assert.Equal(t, httpapi.Rate{}, keys.Lookup(acmeKey).Rate, "no rate unless one is set")
}

func TestKeysFileErrors(t *testing.T) {
	allow17 := `"` + strings.Repeat(`10.0.0.1", "`, 16) + `10.0.0.1"`
	for _, tc := range []struct{ name, file, want string }{
		{"line", "lmn_stg_short\n", "line 1"},
		{"other env", "lmn_live_abcdefghijklmnop\n", `"stg" environment`},
		{"no partner", `{"keys": [{"key": "` + acmeKey + `"}]}`, "partner"},
		{"partner shape", `{"keys": [{"partner": "Acme Corp", "key": "` + acmeKey + `"}]}`, "partner"},
		{"both", `{"keys": [{"partner": "a", "key": "` + acmeKey + `", "sha256": "00"}]}`, "not both"},
		{"neither", `{"keys": [{"partner": "a"}]}`, "key or sha256"},
		{"bad hash", `{"keys": [{"partner": "a", "sha256": "abc"}]}`, "64 hex"},
		{"bad cidr", `{"keys": [{"partner": "a", "key": "` + acmeKey + `", "allow": ["10.0.0.0/33"]}]}`, "keys[0]"},
		{"17 allowed", `{"keys": [{"partner": "a", "key": "` + acmeKey + `", "allow": [` + allow17 + `]}]}`, "at most 16"},
		{"rate", `{"keys": [{"partner": "a", "key": "` + acmeKey + `", "rate": {"per_second": 0, "burst": 1}}]}`, "per_second"},
		{"burst", `{"keys": [{"partner": "a", "key": "` + acmeKey + `", "rate": {"per_second": 1}}]}`, "burst"},
		{"unknown field", `{"keys": [{"partner": "a", "key": "` + acmeKey + `", "allowed": []}]}`, "allowed"},
		{"twice", `{"keys": [{"partner": "a", "key": "` + acmeKey + `"}, {"partner": "b", "key": "` + acmeKey + `"}]}`, "twice"},
		{"syntax", `{"keys": [`, "keys file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := httpapi.NewKeys("stg").AddFrom(strings.NewReader(tc.file))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "0000000000001", "an error never quotes a whole key")
		})
	}
}

func TestHashKey(t *testing.T) {
	h, err := httpapi.HashKey(acmeKey)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(acmeKey))
	assert.Equal(t, hex.EncodeToString(sum[:]), h)
	_, err = httpapi.HashKey(acmeKey + "\n")
	assert.Error(t, err)
}
