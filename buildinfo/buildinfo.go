// Package buildinfo says which build of the service is running: the version
// and revision stamped by the build (-ldflags -X), or, for a plain `go
// build`, what the Go toolchain recorded in the binary.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Set by the build:
//
//	go build -ldflags "-X github.com/lmn/aggregator/buildinfo.version=v1.2.3 -X github.com/lmn/aggregator/buildinfo.revision=$(git rev-parse HEAD)"
var version, revision string

// Info is a build's identity.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	GoVersion string `json:"go_version"`
	Modified  bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
}

// unknown is what a build that recorded nothing reports, so that a missing
// value reads as missing and never as a version.
const unknown = "unknown"

var (
	once sync.Once
	info Info
)

// Get returns the running build's identity.
func Get() Info {
	once.Do(func() {
		bi, _ := debug.ReadBuildInfo()
		info = resolve(version, revision, bi)
	})
	return info
}

// resolve prefers the values the build stamped, then those the toolchain
// recorded (the module version, vcs.revision when built with VCS stamping).
func resolve(version, revision string, bi *debug.BuildInfo) Info {
	in := Info{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if bi != nil {
		in.GoVersion = bi.GoVersion
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Revision == "" {
					in.Revision = s.Value
				}
			case "vcs.modified":
				if revision == "" {
					in.Modified = s.Value == "true"
				}
			}
		}
	}
	if in.Version == "" {
		in.Version = unknown
	}
	if in.Revision == "" {
		in.Revision = unknown
	}
	return in
}
