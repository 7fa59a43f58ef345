// Package buildinfo says which build of the server is running: the
// release version (set at link time), the commit it was built from and the
// Go version, for `tenantapi version` and the tenantapi_build_info metric.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// version is the release, set at link time:
// go build -ldflags "-X tenantapi/buildinfo.version=v1.2.0". Unset: "dev".
var version = "dev"

// Info describes the running build.
type Info struct {
	Version   string // the release, or "dev"
	Commit    string // the VCS revision, "+dirty" when the tree had changes; "unknown" without VCS data
	CommitAt  string // the commit's time (RFC 3339), "" when unknown
	GoVersion string
}

// Get returns the running build's Info.
var Get = sync.OnceValue(func() Info {
	in := Info{Version: version, Commit: "unknown", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return in
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Commit = s.Value
		case "vcs.time":
			in.CommitAt = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && in.Commit != "unknown" {
		in.Commit += "+dirty"
	}
	return in
})

// String is the one-line form `tenantapi version` prints.
func (i Info) String() string {
	s := "tenantapi " + i.Version + " (commit " + i.Commit
	if i.CommitAt != "" {
		s += " of " + i.CommitAt
	}
	return s + ", " + i.GoVersion + ")"
}
