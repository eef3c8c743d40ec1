package danawa

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sim"
)

// TestSimulatedLinkShapes: whatever shape the simulator gives a bridge
// link, the row gets its partner-and-ad id and an absolute source_url.
func TestSimulatedLinkShapes(t *testing.T) {
	rec := httptest.NewRecorder()
	sim.New().Danawa().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/usedcar/?Work=list&Tab=list&Page=1&Order=1", nil))
	l, err := ExtractList(rec.Body.Bytes(), 1)
	require.NoError(t, err)
	require.NotEmpty(t, l.Rows)
	assert.Zero(t, l.Skipped)
	for _, v := range l.Rows {
		assert.Regexp(t, `^danawa_(kcar|kbchachacha|encar|bobaedream)-7\d{7}$`, v.ID)
		assert.Regexp(t, `^https://auto\.danawa\.com/usedcar/loadingBridge\.php\?`, v.SourceURL)
	}
}
