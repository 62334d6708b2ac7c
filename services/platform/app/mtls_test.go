package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/testkit"
	"github.com/tia-platform/tia/services/platform/tlsconfig/tlstest"
)

// caller is a service whose one method asks its peer "callee" for health:
// a call between services.
type caller struct {
	peer func(string) (grpc.ClientConnInterface, error)
}

func (c caller) Register(r grpc.ServiceRegistrar) {
	r.RegisterService(&grpc.ServiceDesc{
		ServiceName: "tia.test.v1.Caller",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Ping", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			if err := dec(&emptypb.Empty{}); err != nil {
				return nil, err
			}
			cc, err := c.peer("callee")
			if err != nil {
				return nil, err
			}
			resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				return nil, fmt.Errorf("calling callee: %w", err)
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return nil, fmt.Errorf("callee: %s", resp.GetStatus())
			}
			return &emptypb.Empty{}, nil
		}}},
	}, struct{}{})
}
func (caller) Subscriptions() []Subscription { return nil }

// TestServicesCallEachOtherOverMutualTLS runs two services as the production
// binaries do (Run), each with a certificate of a CA made up here: the
// caller reaches its peer over mutual TLS, and the peer refuses a client
// without a certificate.
func TestServicesCallEachOtherOverMutualTLS(t *testing.T) {
	natsURL := os.Getenv("TIA_TEST_NATS_URL")
	if natsURL == "" {
		natsURL = "nats://127.0.0.1:4222"
	}
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "test")
	caFile := ca.File
	calleeCert, calleeKey := ca.Issue(t, "callee", "callee")
	callerCert, callerKey := ca.Issue(t, "caller", "caller")
	key, err := auth.DevKey(filepath.Join(dir, "dev.pem"))
	if err != nil {
		t.Fatal(err)
	}
	migrations := oneTable("t")
	calleeAddr, callerAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 2)
	start := func(c Component, args []string, peers ...string) {
		go func() { errs <- Run(ctx, c, args, peers...) }()
	}
	prefix := fmt.Sprintf("mtls%d_", time.Now().UnixNano())
	t.Cleanup(func() {
		nc, err := nats.Connect(natsURL)
		if err != nil {
			return
		}
		defer nc.Close()
		_ = events.DeleteStreams(context.Background(), nc, prefix)
	})
	common := []string{"-nats-url", natsURL, "-nats-prefix", prefix,
		"-token-key", filepath.Join(dir, "dev.pem.pub"), "-tls-ca", caFile, "-log-level", "warn", "-drain-timeout", "1s"}
	start(Component{Name: "callee", Migrations: migrations, New: func(Deps) (Service, error) { return noService{}, nil }},
		append([]string{"-grpc-addr", calleeAddr, "-database-dsn", "sqlite:" + filepath.Join(dir, "callee.db"),
			"-tls-cert", calleeCert, "-tls-key", calleeKey}, common...))
	start(Component{Name: "caller", Migrations: migrations, New: func(d Deps) (Service, error) { return caller{peer: d.Peer}, nil }},
		append([]string{"-grpc-addr", callerAddr, "-database-dsn", "sqlite:" + filepath.Join(dir, "caller.db"),
			"-tls-cert", callerCert, "-tls-key", callerKey, "-callee-addr", calleeAddr}, common...), "callee")

	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	clientCert, err := tls.LoadX509KeyPair(callerCert, callerKey)
	if err != nil {
		t.Fatal(err)
	}
	withCert := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}}))
	token, err := auth.NewIssuer(key, "").Issue(auth.Principal{Subject: "t", Role: auth.RoleMigrationsverket}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ping := func(creds grpc.DialOption) error {
		cc, err := grpc.NewClient(callerAddr, creds)
		if err != nil {
			return err
		}
		defer cc.Close()
		cctx, ccancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), 5*time.Second)
		defer ccancel()
		return cc.Invoke(cctx, "/tia.test.v1.Caller/Ping", &emptypb.Empty{}, &emptypb.Empty{})
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ping(withCert)
		if err == nil {
			break
		}
		select {
		case runErr := <-errs:
			t.Fatalf("a service stopped: %v (last call: %v)", runErr, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("caller → callee over mutual TLS: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The callee requires a client certificate of the CA.
	cc, err := grpc.NewClient(calleeAddr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	hctx, hcancel := context.WithTimeout(ctx, 5*time.Second)
	defer hcancel()
	if _, err := healthpb.NewHealthClient(cc).Check(hctx, &healthpb.HealthCheckRequest{}); err == nil {
		t.Error("the callee served a client without a certificate")
	}
	if err := ping(grpc.WithTransportCredentials(insecure.NewCredentials())); err == nil {
		t.Error("the caller served a plaintext client")
	}
	cancel()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}
