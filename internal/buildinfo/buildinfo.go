// Package buildinfo says which build of Billkey is running. Release builds
// stamp Version, Commit and Date with -ldflags -X (scripts/build.sh); a
// binary from `go install …@version` falls back on what the Go toolchain
// recorded, so no build answers "(devel)" when it knows better.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Stamped by the release build:
//
//	-X github.com/billkey/billkey/internal/buildinfo.Version=v1.2.3
var (
	Version string
	Commit  string
	Date    string
)

// Info is one build's identity.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get returns the stamped values, completed from the toolchain's build
// information where the stamp is missing.
func Get() Info {
	in := Info{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && in.Commit == "":
				in.Commit = s.Value
			case s.Key == "vcs.time" && in.Date == "":
				in.Date = s.Value
			case s.Key == "vcs.modified" && s.Value == "true" && in.Commit != "" && Commit == "":
				in.Commit += "-dirty"
			}
		}
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	if in.Date == "" {
		in.Date = "unknown"
	}
	return in
}

// Short is the one-line form for benchmark and log headers.
func (in Info) Short() string {
	c := in.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	return "billkey " + in.Version + " " + c + " " + in.GoVersion
}

// String is what `billkey version` prints.
func (in Info) String() string {
	return fmt.Sprintf("billkey %s\ncommit: %s\nbuilt:  %s\ngo:     %s %s", in.Version, in.Commit, in.Date, in.GoVersion, in.Platform)
}
