// Package profiling writes CPU and allocation profiles of one measured part
// of a benchmark, the same way for every bench command (`make profile`).
package profiling

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// Start starts the CPU profiler and notes the allocations so far;
// stop writes, into dir, <name>.cpu.pprof, <name>.allocs.pprof and
// <name>.allocs-base.pprof (the allocations before the start), so that
// `go tool pprof -sample_index=alloc_space -base <name>.allocs-base.pprof
// <name>.allocs.pprof` shows what was allocated in between (`make profile`).
// With an empty dir it does nothing.
func Start(dir, name string) (stop func() error, err error) {
	if dir == "" {
		return func() error { return nil }, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeAllocs(filepath.Join(dir, name+".allocs-base.pprof")); err != nil {
		return nil, err
	}
	cpu, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := cpu.Close(); err != nil {
			return err
		}
		return writeAllocs(filepath.Join(dir, name+".allocs.pprof"))
	}, nil
}

func writeAllocs(file string) error {
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	runtime.GC() // the allocation profile is as of the last collection
	if err := pprof.Lookup("allocs").WriteTo(out, 0); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
