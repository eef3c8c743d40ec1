package glovis

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/vehicle"
)

func writeSnapshot(t *testing.T, file string, lots int) {
	t.Helper()
	s := snapshot{Version: snapshotVersion, BuiltAt: time.Now()}
	for i := range lots {
		s.Lots = append(s.Lots, Lot{Vehicle: vehicle.Vehicle{ID: fmt.Sprintf("glovis_20250620_3100_%d", i+1)}})
	}
	data, err := json.Marshal(s)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o600))
}

// TestImplausibleSnapshotNotServed: an empty or tiny snapshot leaves the
// index unloaded (not ready) rather than serving an auction that is not there.
func TestImplausibleSnapshotNotServed(t *testing.T) {
	for _, n := range []int{0, 1, MinSnapshotLots - 1} {
		file := filepath.Join(t.TempDir(), "auction.json")
		writeSnapshot(t, file, n)
		c := newCrawler(t, "http://127.0.0.1:1", file)
		err := c.Restore()
		require.Error(t, err, "%d lots", n)
		assert.Contains(t, err.Error(), "plausible")
		assert.False(t, c.Store.Status().Loaded, "%d lots", n)
	}
	file := filepath.Join(t.TempDir(), "auction.json")
	writeSnapshot(t, file, MinSnapshotLots)
	c := newCrawler(t, "http://127.0.0.1:1", file)
	require.NoError(t, c.Restore())
	assert.Equal(t, MinSnapshotLots, c.Store.Status().Rows)
}

func TestStaleSnapshotTempsRemovedAtStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "auction.json")
	writeSnapshot(t, file, MinSnapshotLots)
	stale, fresh, other := filepath.Join(dir, ".auction-123.tmp"), filepath.Join(dir, ".auction-456.tmp"), filepath.Join(dir, "notes.tmp")
	for _, f := range []string{stale, fresh, other} {
		require.NoError(t, os.WriteFile(f, []byte("{torn"), 0o600))
	}
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))
	require.NoError(t, os.Chtimes(other, old, old))
	require.NoError(t, newCrawler(t, "http://127.0.0.1:1", file).Restore())
	assert.NoFileExists(t, stale, "left by a crashed write")
	assert.FileExists(t, fresh, "may be another process's write in progress")
	assert.FileExists(t, other, "not a snapshot temp")
	assert.FileExists(t, file)
}
