package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBufBreakingGuardsProtos: the check CI runs (`make breaking`) accepts an
// added field (see the upgrade test) and rejects changes that would break
// clients or servers of the other version.
func TestBufBreakingGuardsProtos(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	buf := filepath.Join(root, ".cache", "bin", "buf")
	if _, err := os.Stat(buf); err != nil {
		run(t, root, "make", "tools", "proto-deps")
	}
	against := filepath.Join(t.TempDir(), "against.binpb")
	run(t, root, buf, "build", "proto", "-o", against)

	for _, c := range []struct {
		name, from, to, want string
	}{
		{"renumbered field", "string title = 2", "string title = 9001", "title"},
		{"changed type", "string title = 2", "bytes title = 2", "title"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			copyProtos(t, root, dir)
			path := filepath.Join(dir, "proto", "tia", "activity", "v1", "activity.proto")
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(src), c.from) {
				t.Skipf("activity.proto no longer has %q", c.from)
			}
			if err := os.WriteFile(path, []byte(strings.Replace(string(src), c.from, c.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(buf, "breaking", "proto", "--against", against)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Fatalf("buf breaking accepted a %s: %v\n%s", c.name, err, out)
			}
		})
	}
}

// copyProtos copies what buf reads (buf.yaml, the .proto files) into dir and
// links the third-party protos.
func copyProtos(t *testing.T, root, dir string) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(root, "proto"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".proto" {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "buf.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "buf.yaml"), data)
	linkCache(t, root, dir)
}
