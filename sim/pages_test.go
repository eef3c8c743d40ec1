package sim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (p *listPages) clear() {
	p.mu.Lock()
	p.m, p.bytes = nil, 0
	p.mu.Unlock()
}

func (p *listPages) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

func get(t *testing.T, h http.Handler, u string) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, u, nil))
	require.Equal(t, http.StatusOK, w.Code, u)
	return w.Body.String()
}

// TestListAnswersRemembered: a remembered list answer is the answer made
// afresh, byte for byte; a drifting source's answers are kept apart from
// its normal ones; faults still apply to remembered answers; the memo
// stays within its bound.
func TestListAnswersRemembered(t *testing.T) {
	s := New()
	const encarList = "/search/car/list/general?count=true&q=(And.Hidden.N.)&sr=%7CPriceAsc%7C0%7C30"
	first := get(t, s.Encar(), encarList)
	assert.Equal(t, 1, s.lists.len())
	assert.Equal(t, first, get(t, s.Encar(), encarList))
	s.lists.clear()
	assert.Equal(t, first, get(t, s.Encar(), encarList), "made afresh")

	require.NoError(t, s.SetFault("encar", Fault{Mode: Drift}))
	drifted := get(t, s.Encar(), encarList)
	assert.NotEqual(t, first, drifted)
	assert.Contains(t, drifted, `"results"`)
	require.NoError(t, s.SetFault("encar", Fault{Mode: Blocked}))
	assert.Contains(t, get(t, s.Encar(), encarList), "captcha", "a fault applies to a remembered answer")
	require.NoError(t, s.SetFault("encar", Fault{Mode: Healthy}))
	assert.Equal(t, first, get(t, s.Encar(), encarList))

	for page := range maxListPages + 10 {
		get(t, s.Danawa(), fmt.Sprintf("/usedcar/?Work=list&Tab=list&Order=1&Page=%d", page+1))
		if !assert.LessOrEqual(t, s.lists.len(), maxListPages) {
			break
		}
	}

	// Bounded in bytes too (a small bound here, so that a few 500-row
	// answers of about 370 KB pass it).
	s.lists.clear()
	const bound = 1 << 20
	s.lists.maxBytes = bound
	for offset := range 8 {
		get(t, s.Encar(), fmt.Sprintf("/search/car/list/general?count=true&q=(And.Hidden.N.)&sr=%%7CPriceAsc%%7C%d%%7C500", offset))
		s.lists.mu.Lock()
		held, n := s.lists.bytes, len(s.lists.m)
		s.lists.mu.Unlock()
		if !assert.LessOrEqual(t, held, bound) || !assert.Positive(t, n) {
			break
		}
	}
}
