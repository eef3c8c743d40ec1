package korean

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKCarSite(t *testing.T) {
	for _, c := range []struct {
		code, name, want string
		ok               bool
	}{
		{"112", "오산경매장", "Osan", true},
		{"112", " 오산 경매장 ", "Osan", true},
		{"112", "세종경매장", "Osan", false},  // the code's own site, but the name disagrees
		{"213", "세종경매장", "Sejong", true}, // Sejong's code is not known: its name is
		{"", "세종경매장", "Sejong", true},
		{"999", "부산경매장", "", false},
		{"999", "오산경매장", "Osan", false}, // a known name under another code
	} {
		got, ok := KCarSite(c.code, c.name)
		assert.Equal(t, c.ok, ok, "%s %s", c.code, c.name)
		if c.ok {
			assert.Equal(t, c.want, got, "%s %s", c.code, c.name)
		}
	}
}

// TestKCarNames: the names K Car's rows use, translated.
func TestKCarNames(t *testing.T) {
	m, ok := MakeByName("KGM")
	require.True(t, ok)
	assert.Equal(t, "KG Mobility", m.English)
	for _, c := range []struct{ make_, model, want string }{
		{"폭스바겐", "뉴 CC", "CC"},
		{"르노코리아(삼성)", "뉴 마스터", "Master"},
		{"KGM", "더 뉴 렉스턴 스포츠", "Rexton Sports"},
		{"기아", "모하비 더 마스터", "Mohave"}, // Renault's Master is Renault's
	} {
		mk, ok := MakeByName(c.make_)
		require.True(t, ok, c.make_)
		md, ok := mk.ModelIn(c.model)
		require.True(t, ok, c.model)
		assert.Equal(t, c.want, md.English, c.model)
	}
	count := 0
	for _, mk := range Makes() {
		for _, a := range mk.Aliases {
			if a == "KGM" {
				count++
			}
		}
	}
	assert.Equal(t, 1, count, "added once, to one make")
}
