package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/healthcheck"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// The tests that run the production binaries need PostgreSQL (see
// services/platform/db/dbtest) and NATS with JetStream on 127.0.0.1:4222 (or
// TIA_TEST_NATS_URL); they fail, rather than skip, when those are down.
// TIA_DEPLOY_TEST_REV=<git revision> builds that revision instead of the
// working tree.

// sourceRoot returns the tree the binaries are built from: the working tree
// of the repository, or a snapshot of TIA_DEPLOY_TEST_REV.
func sourceRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	rev := os.Getenv("TIA_DEPLOY_TEST_REV")
	if rev == "" {
		return root
	}
	dir := t.TempDir()
	archive := exec.Command("git", "archive", "--format=tar", rev)
	archive.Dir = root
	tarball, err := archive.Output()
	if err != nil {
		t.Fatalf("git archive %s: %v", rev, err)
	}
	untar := exec.Command("tar", "-x", "-C", dir)
	untar.Stdin = bytes.NewReader(tarball)
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("untar: %v\n%s", err, out)
	}
	linkCache(t, root, dir)
	return dir
}

// copyTree copies the files of the source tree that git knows or would
// commit (no .git, .cache, build output) into a new directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	var files []string
	if _, err := os.Stat(filepath.Join(src, ".git")); err == nil {
		cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
		cmd.Dir = src
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git ls-files: %v", err)
		}
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
	} else {
		err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, path)
			if d.IsDir() && (rel == ".cache" || rel == ".git") {
				return filepath.SkipDir
			}
			if !d.IsDir() && d.Type().IsRegular() {
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(src, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, _ := filepath.Abs(repoRoot)
	linkCache(t, root, dst)
	return dst
}

// linkCache gives a copied tree the pinned buf and plugins and the
// third-party protos of the repository's .cache.
func linkCache(t *testing.T, root, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, ".cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"bin", "proto"} {
		if err := os.Symlink(filepath.Join(root, ".cache", d), filepath.Join(dir, ".cache", d)); err != nil {
			t.Fatal(err)
		}
	}
}

// packageOf is the main package of a binary.
func packageOf(binary string) string {
	if binary == gateway {
		return "./gateway/cmd/gateway"
	}
	return "./services/" + binary + "/cmd/" + binary
}

// build compiles binaries of the tree at src into a new directory.
func build(t *testing.T, src string, binaries ...string) string {
	t.Helper()
	out := t.TempDir()
	// No symbol tables or DWARF: linking is a good part of the build time.
	args := []string{"build", "-ldflags=-s -w", "-o", out + string(os.PathSeparator)}
	for _, b := range binaries {
		args = append(args, packageOf(b))
	}
	run(t, src, "go", args...)
	return out
}

// run runs a command in dir and fails the test with its output on error.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// proc is a running binary.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *testkit.LogBuffer
	done chan struct{}
	err  error
}

// startProc starts a binary with the given TIA_* settings (and the rest of
// this process's environment without TIA_* variables). Its output is shown
// when the test fails; it is stopped when the test ends.
func startProc(t *testing.T, name, path string, env map[string]string) *proc {
	t.Helper()
	cmd := exec.Command(path)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TIA_") && !strings.HasPrefix(kv, "OTEL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{name: name, cmd: cmd, out: &testkit.LogBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, p.out.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits (SIGKILL after 20 s).
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls check every 100 ms until it returns nil, failing the test
// after timeout or when one of procs exits.
func waitFor(t *testing.T, what string, timeout time.Duration, check func() error, procs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s: %s exited (%v):\n%s", what, p.name, p.err, p.out.String())
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// grpcServing checks grpc.health.v1 on a plaintext address.
func grpcServing(addr string) error {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return healthcheck.Check(ctx, cc, "")
}

// httpOK checks that GET url answers 200.
func httpOK(client *http.Client, url string) func() error {
	return func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		return nil
	}
}

// startGateway starts the gateway binary of bin as name, in front of the
// services at addrs (service → gRPC address), with no rate limit (the tests
// are load, not a person), and waits until it is ready. It returns the
// process and an anonymous REST client of it.
func startGateway(t *testing.T, name, bin string, addrs map[string]string) (*proc, rest) {
	t.Helper()
	env := map[string]string{"TIA_HTTP_ADDR": testkit.FreeAddr(t), "TIA_DRAIN_TIMEOUT": "5s", "TIA_RATE_LIMIT": "0"}
	for s, addr := range addrs {
		env["TIA_"+strings.ToUpper(s)+"_ADDR"] = addr
	}
	gw := startProc(t, name, filepath.Join(bin, gateway), env)
	r := rest{client: &http.Client{Timeout: 15 * time.Second}, base: "http://" + env["TIA_HTTP_ADDR"]}
	waitFor(t, name+" ready", 60*time.Second, httpOK(r.client, r.base+"/readyz"), gw)
	return gw, r
}

// natsPrefix returns a fresh TIA_NATS_PREFIX whose streams are deleted when
// the test ends, and the NATS URL.
func natsPrefix(t *testing.T) (url, prefix string) {
	t.Helper()
	url = os.Getenv("TIA_TEST_NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("NATS at %s: %v", url, err)
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	prefix = "deploy" + hex.EncodeToString(b) + "_"
	t.Cleanup(func() {
		defer nc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = events.DeleteStreams(ctx, nc, prefix)
	})
	return url, prefix
}
