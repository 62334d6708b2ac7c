// Package cluster runs the production path on one machine: the four services
// and the gateway, each as its own process built from its cmd/ package,
// listening on loopback ports, with one PostgreSQL database per service and a
// shared NATS JetStream server. The end-to-end test and the benchmarks use
// it; it is configured exactly as the README's production table says, through
// TIA_* environment variables.
package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/events"
)

// Services are the service binaries, in start order.
var Services = []string{"activity", "statistics", "travel", "notification"}

// Gateway names the REST edge's process.
const Gateway = "gateway"

// packages are the main packages, relative to the repository root.
var packages = map[string]string{
	"activity":     "./services/activity/cmd/activity",
	"statistics":   "./services/statistics/cmd/statistics",
	"travel":       "./services/travel/cmd/travel",
	"notification": "./services/notification/cmd/notification",
	Gateway:        "./gateway/cmd/gateway",
}

const (
	// readyTimeout bounds how long Start and Restart wait for GET /readyz.
	readyTimeout = 60 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 15 * time.Second
	// drainTimeout is the processes' TIA_DRAIN_TIMEOUT: short, as nothing
	// long-running is in flight when a test stops.
	drainTimeout = "5s"
	// tailSize is how much recent process output errors quote.
	tailSize = 16 << 10
)

// Root returns the repository root: the nearest directory at or above the
// working directory that holds go.work.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cluster: no go.work in the working directory or above it")
		}
		dir = parent
	}
}

// Build compiles the four service binaries and the gateway into dir.
func Build(ctx context.Context, dir string) error {
	root, err := Root()
	if err != nil {
		return err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("cluster: build: %w", err)
	}
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, name := range append(append([]string(nil), Services...), Gateway) {
		args = append(args, packages[name])
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cluster: go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Options configure Start.
type Options struct {
	// BinDir holds the binaries Build wrote.
	BinDir string
	// PostgresDSN returns the DSN of a fresh database for a service; it is
	// called once per service.
	PostgresDSN func(service string) (string, error)
	// NATSURL is the NATS JetStream server (default nats://127.0.0.1:4222).
	NATSURL string
	// Prefix becomes TIA_NATS_PREFIX, so several clusters can share one
	// NATS; Stop deletes the streams whose names start with it, upper-cased.
	// Empty picks a random prefix.
	Prefix string
	// Logs receives every process's output, each line prefixed with the
	// process's name. When nil, output goes to cluster.log in the cluster's
	// temporary folder (see LogFile).
	Logs io.Writer
	// Instances runs more than one instance of a service, all on its one
	// database, as TIA_<SERVICE>_ADDR=a,b tells the gateway and the peers
	// (client-side round robin). The first is named like the service, the
	// others "<service>-2", "<service>-3", … for Kill and Restart. A
	// service not listed runs once.
	Instances map[string]int
}

// Cluster is a running production path.
type Cluster struct {
	dir      string
	prefix   string
	issuer   *auth.Issuer
	httpBase string
	addrs    map[string]string // gRPC (services) or HTTP (gateway) listen addresses
	procs    map[string]*process
	order    []string            // process names in start order
	targets  map[string][]string // each service's instances' addresses
	logs     *sink
	logFile  *os.File
	nc       *nats.Conn

	mu      sync.Mutex
	stopped bool
}

// process is one binary with the environment it always starts with.
type process struct {
	name string
	path string
	env  []string
	out  *lineWriter

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	err  error         // cmd.Wait's result, once done
}

// Start starts the services and the gateway and returns once GET
// /readyz/{service} on the gateway answers 200 for every service.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.BinDir == "" || o.PostgresDSN == nil {
		return nil, errors.New("cluster: BinDir and PostgresDSN are required")
	}
	if o.NATSURL == "" {
		o.NATSURL = nats.DefaultURL
	}
	if o.Prefix == "" {
		o.Prefix = "tia" + randomHex(6) + "_"
	}
	bin, err := filepath.Abs(o.BinDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{prefix: o.Prefix, addrs: map[string]string{}, procs: map[string]*process{}, targets: map[string][]string{}}
	started := false
	defer func() {
		// Also when PostgresDSN ends the goroutine (t.Fatal in a test).
		if !started {
			if tail := c.logs.Tail(); tail != "" && err != nil {
				err = fmt.Errorf("%w\nlast process output:\n%s", err, tail)
			}
			c.Stop()
		}
	}()
	c.dir, err = os.MkdirTemp("", "tia-cluster-")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	out := o.Logs
	if out == nil {
		c.logFile, err = os.Create(filepath.Join(c.dir, "cluster.log"))
		if err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		out = c.logFile
	}
	c.logs = &sink{w: out}

	// Fail fast when NATS is down: the services would wait for it forever.
	c.nc, err = nats.Connect(o.NATSURL, nats.Name("tia-cluster"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("cluster: NATS at %s: %w", o.NATSURL, err)
	}

	keyPath := filepath.Join(c.dir, "keys", "dev.pem")
	key, err := auth.DevKey(keyPath)
	if err != nil {
		return nil, err
	}
	c.issuer = auth.NewIssuer(key, "")

	for _, svc := range Services {
		for i := range max(o.Instances[svc], 1) {
			name := instanceName(svc, i)
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			c.addrs[name] = net.JoinHostPort("127.0.0.1", port)
			c.targets[svc] = append(c.targets[svc], c.addrs[name])
			c.order = append(c.order, name)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c.addrs[Gateway] = net.JoinHostPort("127.0.0.1", port)
	c.order = append(c.order, Gateway)
	c.httpBase = "http://" + c.addrs[Gateway]

	dsns := map[string]string{}
	for _, name := range Services {
		dsn, err := o.PostgresDSN(name)
		if err != nil {
			return nil, fmt.Errorf("cluster: database for %s: %w", name, err)
		}
		dsns[name] = dsn
	}

	base := environ()
	peers := func(except string) []string {
		var env []string
		for _, name := range Services {
			if name != except {
				env = append(env, "TIA_"+strings.ToUpper(name)+"_ADDR="+strings.Join(c.targets[name], ","))
			}
		}
		return env
	}
	for _, name := range c.order[:len(c.order)-1] {
		svc := serviceOf(name)
		env := append(append([]string(nil), base...),
			"TIA_GRPC_ADDR="+c.addrs[name],
			"TIA_DATABASE_DSN="+dsns[svc],
			"TIA_NATS_URL="+o.NATSURL,
			"TIA_NATS_PREFIX="+o.Prefix,
			"TIA_TOKEN_KEY="+keyPath+".pub",
			"TIA_LOG_LEVEL=warn",
			"TIA_DRAIN_TIMEOUT="+drainTimeout,
		)
		// Services that call others find them like in production; a binary
		// that declares no such flag ignores the variable.
		env = append(env, peers(svc)...)
		if svc == "travel" {
			// Travel asks the activity registry about certificates in the
			// background too, with tokens it issues itself from this key.
			env = append(env, "TIA_SERVICE_KEY="+keyPath)
		}
		c.procs[name] = &process{name: name, path: filepath.Join(bin, svc), env: env, out: c.logs.writer(name)}
	}
	gw := append(append([]string(nil), base...),
		"TIA_HTTP_ADDR="+c.addrs[Gateway],
		"TIA_RATE_LIMIT=0", // benchmarks and load tests send far more than a person
		"TIA_LOG_LEVEL=warn",
		"TIA_DRAIN_TIMEOUT="+drainTimeout,
	)
	gw = append(gw, peers(Gateway)...)
	c.procs[Gateway] = &process{name: Gateway, path: filepath.Join(bin, Gateway), env: gw, out: c.logs.writer(Gateway)}

	for _, name := range c.order {
		if err := c.procs[name].start(); err != nil {
			return nil, err
		}
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	started = true
	return c, nil
}

// HTTPBase is the gateway's base URL, e.g. http://127.0.0.1:41234.
func (c *Cluster) HTTPBase() string { return c.httpBase }

// GRPCAddr is the gRPC address of a service (of its first instance), or
// of an instance named as in Options.Instances.
func (c *Cluster) GRPCAddr(service string) string { return c.addrs[service] }

// Prefix is the cluster's TIA_NATS_PREFIX.
func (c *Cluster) Prefix() string { return c.prefix }

// LogFile is the file holding the processes' output when Options.Logs was
// nil (it is removed by Stop), or "".
func (c *Cluster) LogFile() string {
	if c.logFile == nil {
		return ""
	}
	return c.logFile.Name()
}

// LogTail is the most recent process output (up to 16 KiB).
func (c *Cluster) LogTail() string { return c.logs.Tail() }

// Token issues a token for p, valid for a day, signed with the key the
// services trust.
func (c *Cluster) Token(p auth.Principal) (string, error) {
	return c.issuer.Issue(p, 24*time.Hour)
}

// Kill ends a process with SIGKILL, as a crash would, and waits for it.
func (c *Cluster) Kill(name string) error {
	p, ok := c.procs[name]
	if !ok {
		return fmt.Errorf("cluster: no process %q", name)
	}
	return p.kill()
}

// Restart starts a stopped process again with the same environment, so on
// the same port and database, and waits until the gateway is ready again.
func (c *Cluster) Restart(name string) error {
	p, ok := c.procs[name]
	if !ok {
		return fmt.Errorf("cluster: no process %q", name)
	}
	if err := p.start(); err != nil {
		return err
	}
	if name != Gateway {
		// The gateway may be ready through another instance already.
		if err := c.waitServing(context.Background(), name); err != nil {
			return fmt.Errorf("%w\nlast process output:\n%s", err, c.logs.Tail())
		}
	}
	if err := c.waitReady(context.Background()); err != nil {
		return fmt.Errorf("%w\nlast process output:\n%s", err, c.logs.Tail())
	}
	return nil
}

// Stop sends SIGTERM to every process, waits for them (SIGKILL after 15 s),
// deletes the NATS streams of the prefix and the temporary folder. It is
// safe to call more than once.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped = true
	var wg sync.WaitGroup
	for _, p := range c.procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop(stopTimeout)
		}()
	}
	wg.Wait()
	if c.nc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := events.DeleteStreams(ctx, c.nc, c.prefix)
		cancel()
		if err != nil && c.logs != nil {
			fmt.Fprintf(c.logs.writer("cluster"), "deleting the NATS streams of %s: %v\n", c.prefix, err)
		}
		c.nc.Close()
	}
	if c.logFile != nil {
		_ = c.logFile.Close()
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// waitReady polls GET /readyz/{service} on the gateway until it answers 200
// for every service, failing early when a process exits.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 3 * time.Second}
	last := "no answer"
	for {
		for _, name := range c.order {
			if exited, err := c.procs[name].exited(); exited {
				return fmt.Errorf("cluster: %s exited: %v", name, err)
			}
		}
		// /readyz is ready while any service serves; wait for each one's.
		ready := 0
		for _, name := range Services {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.httpBase+"/readyz/"+name, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				last = err.Error()
				break
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				last = fmt.Sprintf("%s: HTTP %d %s", name, resp.StatusCode, strings.TrimSpace(string(body)))
				break
			}
			ready++
		}
		if ready == len(Services) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: gateway not ready after %s: %s", readyTimeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("cluster: %s is running", p.name)
		}
	}
	cmd := exec.Command(p.path)
	cmd.Env = p.env
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cluster: start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err = cmd, done, nil
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false, nil
	}
	select {
	case <-done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

func (p *process) kill() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("cluster: %s was never started", p.name)
	}
	select {
	case <-done:
		return fmt.Errorf("cluster: %s is not running", p.name)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("cluster: kill %s: %w", p.name, err)
	}
	<-done
	return nil
}

// stop sends SIGTERM, waits up to timeout, then sends SIGKILL.
func (p *process) stop(timeout time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	defer p.out.Flush()
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// environ is this process's environment without TIA_* variables, so that a
// developer's settings do not leak into the cluster.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TIA_") {
			env = append(env, kv)
		}
	}
	return env
}

// freePort asks the kernel for a free loopback port.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("cluster: free port: %w", err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails; see crypto/rand.Read
	return hex.EncodeToString(b)
}

// sink serializes the output of every process into one writer and keeps the
// most recent part for error messages.
type sink struct {
	mu   sync.Mutex
	w    io.Writer
	tail []byte
}

func (s *sink) write(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(b)
	s.tail = append(s.tail, b...)
	if len(s.tail) > 2*tailSize {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-tailSize:]...)
	}
}

// Tail returns the most recent output.
func (s *sink) Tail() string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tail
	if len(t) > tailSize {
		t = t[len(t)-tailSize:]
	}
	return string(t)
}

func (s *sink) writer(name string) *lineWriter {
	return &lineWriter{sink: s, prefix: []byte(fmt.Sprintf("%-12s| ", name))}
}

// lineWriter prefixes each complete line with the process name.
type lineWriter struct {
	sink   *sink
	prefix []byte
	mu     sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := append(append([]byte(nil), w.prefix...), w.buf[:i+1]...)
		w.sink.write(line)
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

// Flush writes a last line without a newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.sink.write(append(append(append([]byte(nil), w.prefix...), w.buf...), '\n'))
		w.buf = nil
	}
}
