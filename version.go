package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the gateway's version when the build stamps one:
//
//	go build -ldflags "-X main.version=v1.4.0" .
//
// (the Dockerfile passes its VERSION build argument so). It is a variable
// only because the linker can set nothing else; nothing assigns it at run
// time. Unstamped builds fall back to what the Go toolchain records (see
// buildInfo).
var version string

// buildInfo returns the gateway's version and the VCS revision it was
// built from. The version is the stamped one, else the main module's
// version (go install …@v1.4.0), else "devel"; the revision is the commit
// the toolchain recorded (with "-dirty" for uncommitted changes), else
// "unknown".
func buildInfo() (ver, revision string) {
	ver, revision = version, "unknown"
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if ver == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		var dirty bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && revision != "unknown" {
			revision += "-dirty"
		}
	}
	if ver == "" {
		ver = "devel"
	}
	return ver, revision
}

// versionLine is what `gateway version` prints.
func versionLine() string {
	ver, revision := buildInfo()
	return fmt.Sprintf("workable-graphql-gateway %s (revision %s, %s %s/%s)", ver, revision, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
