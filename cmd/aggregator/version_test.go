package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVersionPrintsTheStampedRevision builds the binary the way the image
// script does, with the version and revision given by -ldflags, and asks it.
func TestVersionPrintsTheStampedRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "aggregator")
	const version, revision = "v9.8.7-test", "0123456789abcdef0123456789abcdef01234567"
	build := exec.Command("go", "build", "-trimpath", "-o", bin,
		"-ldflags", "-X github.com/lmn/aggregator/buildinfo.version="+version+" -X github.com/lmn/aggregator/buildinfo.revision="+revision, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	out, err = exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	want := "aggregator " + version + " revision " + revision + " " + runtime.Version() + "\n"
	require.Equal(t, want, string(out))

	out, err = exec.Command(bin, "version", "-json").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.True(t, strings.Contains(string(out), `"revision":"`+revision+`"`), "%s", out)
}
