package panics

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestContain: a panic becomes an *Error with its value and the stack it
// was raised on; no panic leaves the error alone.
func TestContain(t *testing.T) {
	raise := func() (err error) {
		defer Contain(&err)
		panic("page 2 out of range")
	}
	err := raise()
	var p *Error
	require.True(t, errors.As(err, &p))
	assert.Equal(t, "page 2 out of range", p.Value)
	assert.Equal(t, "panic: page 2 out of range", err.Error())
	assert.Contains(t, string(p.Stack), "TestContain")

	calm := func() (err error) {
		defer Contain(&err)
		return errors.New("boom")
	}
	assert.EqualError(t, calm(), "boom")
}
