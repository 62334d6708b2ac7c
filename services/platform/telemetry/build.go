package telemetry

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Version and Commit are set at build time:
//
//	go build -ldflags "-X github.com/tia-platform/tia/services/platform/telemetry.Version=1.4.0 \
//	  -X github.com/tia-platform/tia/services/platform/telemetry.Commit=$(git rev-parse HEAD)"
//
// Without them the commit is the VCS revision the Go toolchain stamped into
// the binary (when built in a git checkout) and the version the main
// module's version or "dev".
var Version, Commit string

// Build returns the version and commit of the running binary.
func Build() (version, commit string) {
	version, commit = Version, Commit
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return or(version, "dev"), or(commit, "unknown")
	}
	if version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
	if commit == "" {
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if commit != "" && modified {
			commit += "-dirty"
		}
	}
	return or(version, "dev"), or(commit, "unknown")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// buildInfo is the constant tia_build_info{version,commit,goversion} 1, so
// dashboards and alerts can tell which build answers.
func buildInfo() prometheus.Collector {
	version, commit := Build()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "tia_build_info",
		Help:        "The running build of TIA: always 1, with its version and commit as labels.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}
