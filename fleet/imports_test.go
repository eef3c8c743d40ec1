package fleet

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportsNotTheAPI: the fleet speaks the rate-limit vocabulary of
// package ratelimit, not the API's; the API can then depend on anything
// the fleet provides without a cycle, and changes to the HTTP layer never
// touch the fleet.
func TestImportsNotTheAPI(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			assert.NotEqual(t, "github.com/lmn/aggregator/httpapi", path, "%s imports the API", name)
		}
		checked++
	}
	assert.NotZero(t, checked)
}
