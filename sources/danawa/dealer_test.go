package danawa

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
)

// TestFirstFailure: a batch whose pages fail alike reports the failure once,
// keeps its kind for the breaker and the partial-answer reason, and says how
// many pages failed.
func TestFirstFailure(t *testing.T) {
	one := errors.New("danawa list: page 2 timed out")
	kinded := func(s string) error { return errors.Join(sources.ErrBlocked, errors.New(s)) }

	assert.NoError(t, firstFailure([]error{nil, nil}))
	assert.Same(t, one, firstFailure([]error{nil, one, nil}))

	err := firstFailure([]error{kinded("page 1"), nil, kinded("page 3"), kinded("page 4")})
	require.Error(t, err)
	assert.ErrorIs(t, err, sources.ErrBlocked)
	assert.Equal(t, "blocked\npage 1 (and 2 more pages of the batch)", err.Error())
}
