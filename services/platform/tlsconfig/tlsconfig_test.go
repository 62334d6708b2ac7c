package tlsconfig

import (
	"context"
	"crypto/tls"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/testkit"
	"github.com/tia-platform/tia/services/platform/tlsconfig/tlstest"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// serve runs a gRPC health server with the configuration of Server(f, true).
func serve(t *testing.T, f Files) string {
	t.Helper()
	cfg, err := Server(f, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	return testkit.Listen(t, srv)
}

func check(t *testing.T, addr string, f Files) error {
	t.Helper()
	cfg, err := Client(f)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	internal := tlstest.NewCA(t, dir, "internal")
	other := tlstest.NewCA(t, dir, "other")
	srvCert, srvKey := internal.Issue(t, "server", "activity")
	cliCert, cliKey := internal.Issue(t, "client", "gateway")
	badCert, badKey := other.Issue(t, "bad", "intruder")
	addr := serve(t, Files{Cert: srvCert, Key: srvKey, CA: internal.File})

	if err := check(t, addr, Files{CA: internal.File, ClientCert: cliCert, ClientKey: cliKey}); err != nil {
		t.Errorf("client certificate of the internal CA: %v", err)
	}
	// A service's own certificate doubles as its client certificate.
	if err := check(t, addr, Files{Cert: srvCert, Key: srvKey, CA: internal.File}); err != nil {
		t.Errorf("serving certificate as client certificate: %v", err)
	}
	if err := check(t, addr, Files{CA: internal.File}); err == nil {
		t.Error("a client without a certificate was served")
	}
	if err := check(t, addr, Files{CA: internal.File, ClientCert: badCert, ClientKey: badKey}); err == nil {
		t.Error("a client with a certificate of another CA was served")
	}
	if err := check(t, addr, Files{CA: other.File, ClientCert: cliCert, ClientKey: cliKey}); err == nil {
		t.Error("the client accepted a server certificate of a CA it does not trust")
	}
}

func TestServerWithoutCAIsOneWayTLS(t *testing.T) {
	dir := t.TempDir()
	internal := tlstest.NewCA(t, dir, "internal")
	srvCert, srvKey := internal.Issue(t, "server", "edge")
	cfg, err := Server(Files{Cert: srvCert, Key: srvKey, CA: internal.File}, false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GetConfigForClient != nil || cfg.ClientAuth != tls.NoClientCert {
		t.Error("an edge server (requireClientCert false) asks for client certificates")
	}
}

func TestRotationIsPickedUp(t *testing.T) {
	dir := t.TempDir()
	first := tlstest.NewCA(t, dir, "first")
	certFile, keyFile := first.Issue(t, "server", "activity")
	k := keyPair(certFile, keyFile)
	before, err := k.get()
	if err != nil {
		t.Fatal(err)
	}
	second := tlstest.NewCA(t, dir, "second")
	second.Issue(t, "server", "activity") // overwrites the files
	// Files changed on disk are read again once the recheck interval has passed.
	k.checked = time.Now().Add(-2 * recheck)
	after, err := k.get()
	if err != nil {
		t.Fatal(err)
	}
	if string(before.Certificate[0]) == string(after.Certificate[0]) {
		t.Error("the rotated certificate was not loaded")
	}
	// A half-written rotation keeps the last good certificate.
	if err := os.WriteFile(keyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	k.checked = time.Now().Add(-2 * recheck)
	if kept, err := k.get(); err != nil || kept != after {
		t.Errorf("a broken rotation replaced the certificate: %v", err)
	}
}

// TestCABundleRotation: a rotated CA bundle is read again; one that is
// missing or holds no certificate keeps the last good pool, and a first load
// of such a file fails.
func TestCABundleRotation(t *testing.T) {
	dir := t.TempDir()
	first := tlstest.NewCA(t, dir, "first")
	ca := caPool(first.File)
	before, err := ca.get()
	if err != nil {
		t.Fatal(err)
	}
	second := tlstest.NewCA(t, dir, "second")
	if err := os.Rename(second.File, first.File); err != nil {
		t.Fatal(err)
	}
	ca.checked = time.Now().Add(-2 * recheck)
	after, err := ca.get()
	if err != nil || after == before {
		t.Fatalf("the rotated bundle was not loaded: %v", err)
	}
	for _, broken := range []func() error{
		func() error { return os.WriteFile(first.File, []byte("garbage"), 0o600) },
		func() error { return os.Remove(first.File) },
	} {
		if err := broken(); err != nil {
			t.Fatal(err)
		}
		ca.checked = time.Now().Add(-2 * recheck)
		if kept, err := ca.get(); err != nil || kept != after {
			t.Errorf("a broken bundle replaced the pool: %v", err)
		}
	}
	if _, err := caPool(first.File).get(); err == nil {
		t.Error("a missing bundle loaded")
	}
}

func TestCheck(t *testing.T) {
	for _, f := range []Files{{Cert: "a"}, {Key: "b"}, {ClientCert: "c"}, {ClientKey: "d"}} {
		if err := f.Check(); err == nil || !strings.Contains(err.Error(), "together") {
			t.Errorf("%+v: %v", f, err)
		}
	}
	if cfg, err := Server(Files{}, true); cfg != nil || err != nil {
		t.Errorf("no files: %v %v, want plaintext", cfg, err)
	}
	if cfg, err := Client(Files{}); cfg != nil || err != nil {
		t.Errorf("no CA: %v %v, want plaintext", cfg, err)
	}
	if _, err := Server(Files{Cert: "/nonexistent.crt", Key: "/nonexistent.key"}, true); err == nil {
		t.Error("missing files accepted")
	}
}
