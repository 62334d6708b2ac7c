// Package testkit holds the small helpers that tests of several modules
// (deploy, gateway, the embedded platform, the platform itself) would
// otherwise each write again.
package testkit

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// LogBuffer collects the output of loggers and processes that write from
// several goroutines, so a test can search it once they have run.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p. It is safe for concurrent use.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreeAddr returns a loopback address ("127.0.0.1:port") that was free when
// asked, for a server the test starts on a flag or variable rather than on
// a listener it is handed.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Listen serves srv on a loopback port until the test ends and returns its
// address.
func Listen(t testing.TB, srv *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// Serve serves srv on a loopback port until the test ends and returns a
// plaintext client connection to it, closed with the test.
func Serve(t testing.TB, srv *grpc.Server) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(Listen(t, srv), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Load keeps functions running in loops, as clients under load, until Stop.
type Load struct {
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// NewLoad returns a load with nothing running yet.
func NewLoad() *Load { return &Load{done: make(chan struct{})} }

// Go calls step(0), step(1), … on a goroutine of its own until Stop.
func (l *Load) Go(step func(i int)) {
	l.wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-l.done:
				return
			default:
			}
			step(i)
		}
	})
}

// Stop ends every loop and waits for the steps in progress; calling it
// again does nothing.
func (l *Load) Stop() {
	l.once.Do(func() { close(l.done) })
	l.wg.Wait()
}

// Eventually polls cond every 10 ms until it holds, and fails the test if
// it does not within 10 s; what names the awaited state in the failure.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
