package auction

import (
	"errors"
	"os"
	"path/filepath"
	"time"
)

// WriteSnapshot writes data to path through a temporary file in the same
// folder, named by the glob pattern temps, and renames it into place, so a
// crash mid-write never leaves a torn snapshot behind.
func WriteSnapshot(path, temps string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), temps)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// RemoveStaleTemps deletes the temporary files (glob pattern temps) a
// crashed WriteSnapshot left beside path. Files touched in the last minute
// are left alone: another process may be writing one (a write takes well
// under a second).
func RemoveStaleTemps(path, temps string, now time.Time) (removed int, err error) {
	names, err := filepath.Glob(filepath.Join(filepath.Dir(path), temps))
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, name := range names {
		fi, err := os.Stat(name)
		if err != nil || now.Sub(fi.ModTime()) < time.Minute {
			continue
		}
		if err := os.Remove(name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}
