package danawa

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOneSpaced(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"기아 카니발":      "기아 카니발",
		" 기아  카니발 ":   "기아 카니발",
		"기아\n\t카니발":   "기아 카니발",
		"기아\u00a0카니발": "기아 카니발",
		"기아 카니발 ":     "기아 카니발",
		"   ":         "",
	} {
		assert.Equal(t, want, oneSpaced(in), "%q", in)
	}
}
