package glovis

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatusRulesAreWritten: the README's table of Glovis state words is
// the rule partners read, so the code follows it word for word: every
// word of the detail page's code table (00..09, listed here by hand from
// the upstream notes) and of the list's tags has a line, and each line is
// what the extractor does.
func TestStatusRulesAreWritten(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	rows := regexp.MustCompile("(?m)^  \\| `([^`]+)` \\([^)]*\\) \\| ?(\\d*) ?\\| `([a-z_]+)` \\|$").FindAllSubmatch(readme, -1)
	written := map[string]string{}
	codes := map[string]string{}
	for _, r := range rows {
		written[string(r[1])] = string(r[3])
		if len(r[2]) > 0 {
			codes[string(r[2])] = string(r[1])
		}
	}
	codeTable := map[string]string{
		"00": "경매진행", "01": "미경매", "02": "낙찰", "03": "유찰", "04": "상담접수",
		"05": "상담체결", "06": "낙찰취소", "07": "상담취소", "08": "LIVE취소", "09": "즉시체결",
	}
	assert.Equal(t, codeTable, codes, "the README's table lists every code of the exhibit page")
	for _, w := range []string{"경매접수", "낙찰(부)", "유찰", "낙찰", "상담접수", "상담체결"} {
		assert.Contains(t, written, w, "a state word the list shows has a rule in the README")
	}
	assert.Equal(t, written, statuses, "the extractor maps each word as the README says")
}
