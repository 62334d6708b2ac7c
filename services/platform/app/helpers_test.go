package app

import (
	"log/slog"
	"path/filepath"
	"testing"
	"testing/fstest"

	"google.golang.org/grpc"

	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// oneTable is a component's migrations that create one table.
func oneTable(table string) fstest.MapFS {
	return fstest.MapFS{"00001_" + table + ".sql": {Data: []byte("-- +goose Up\nCREATE TABLE " + table + " (id TEXT);\n")}}
}

// newTestHost starts an embedded NATS server in dir and a host on it whose
// subjects start with prefix. The server and the connection stop when the
// test ends; the caller closes the host.
func newTestHost(t *testing.T, dir, prefix string) *Host {
	t.Helper()
	ns, nc, err := events.StartEmbedded(filepath.Join(dir, "nats"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	t.Cleanup(nc.Close)
	h, err := NewHost(slog.Default(), nc, nil, WithEventPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// serve serves srv on a loopback port and returns a connection to it, as
// Dial makes them; both stop when the test ends.
func serve(t *testing.T, srv *grpc.Server) *grpc.ClientConn {
	t.Helper()
	cc, err := Dial(testkit.Listen(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}
