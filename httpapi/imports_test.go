package httpapi

import (
	goparser "go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportsNoSourcePackage: the HTTP layer reaches the upstreams only
// through search and small interfaces, so adding or changing a source never
// touches it. The shared failure kinds of sources itself are its vocabulary.
func TestImportsNoSourcePackage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, name, nil, goparser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			assert.False(t, strings.HasPrefix(path, "github.com/lmn/aggregator/sources/"), "%s imports %s", name, path)
		}
		checked++
	}
	assert.NotZero(t, checked)
}
