package auth

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

const (
	publicMethod  = "/tia.catalog.v1.Catalog/ListActivities"
	privateMethod = "/tia.dossier.v1.Dossiers/GetDossier"
)

func isPublicTest(m string) bool { return m == publicMethod }

type interceptorFixture struct {
	v       *Verifier
	good    string // asylum seeker token
	expired string
	forged  string
}

func newInterceptorFixture(t *testing.T) interceptorFixture {
	t.Helper()
	key := newEdKey(t)
	iss := fixedIssuer(key, "k")
	good, err := iss.Issue(validPrincipals[4], time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return interceptorFixture{
		v:       fixedVerifier(iss.PublicKeys()),
		good:    good,
		expired: signRaw(t, key, jose.EdDSA, "k", with(map[string]any{"exp": testNow.Add(-time.Hour).Unix()})),
		forged:  signRaw(t, newEdKey(t), jose.EdDSA, "k", baseClaims()),
	}
}

func TestInterceptors(t *testing.T) {
	f := newInterceptorFixture(t)
	tests := []struct {
		name     string
		method   string
		auth     []string // authorization metadata values
		noPublic bool     // pass a nil isPublic
		wantCode codes.Code
		wantMsg  string
		wantP    *Principal
	}{
		{name: "private with token", method: privateMethod, auth: []string{"Bearer " + f.good}, wantCode: codes.OK, wantP: &validPrincipals[4]},
		{name: "lower-case scheme", method: privateMethod, auth: []string{"bearer " + f.good}, wantCode: codes.OK, wantP: &validPrincipals[4]},
		{name: "private without token", method: privateMethod, wantCode: codes.Unauthenticated, wantMsg: "missing bearer token"},
		{name: "private forged token", method: privateMethod, auth: []string{"Bearer " + f.forged}, wantCode: codes.Unauthenticated, wantMsg: "invalid bearer token"},
		{name: "private expired token", method: privateMethod, auth: []string{"Bearer " + f.expired}, wantCode: codes.Unauthenticated, wantMsg: "expired"},
		{name: "basic scheme", method: privateMethod, auth: []string{"Basic " + f.good}, wantCode: codes.Unauthenticated, wantMsg: "Bearer <token>"},
		{name: "bare token", method: privateMethod, auth: []string{f.good}, wantCode: codes.Unauthenticated, wantMsg: "Bearer <token>"},
		{name: "empty bearer", method: privateMethod, auth: []string{"Bearer "}, wantCode: codes.Unauthenticated},
		{name: "two headers", method: privateMethod, auth: []string{"Bearer " + f.good, "Bearer " + f.good}, wantCode: codes.Unauthenticated, wantMsg: "multiple"},
		{name: "public anonymous", method: publicMethod, wantCode: codes.OK},
		{name: "public with token", method: publicMethod, auth: []string{"Bearer " + f.good}, wantCode: codes.OK, wantP: &validPrincipals[4]},
		{name: "public forged token", method: publicMethod, auth: []string{"Bearer " + f.forged}, wantCode: codes.Unauthenticated},
		{name: "public malformed header", method: publicMethod, auth: []string{"Token x"}, wantCode: codes.Unauthenticated},
		{name: "nil isPublic", method: publicMethod, noPublic: true, wantCode: codes.Unauthenticated},
	}
	for _, tt := range tests {
		ctx := context.Background()
		if tt.auth != nil {
			md := metadata.MD{}
			md.Append("authorization", tt.auth...)
			ctx = metadata.NewIncomingContext(ctx, md)
		}
		isPublic := isPublicTest
		if tt.noPublic {
			isPublic = nil
		}
		check := func(t *testing.T, err error, got Principal, gotOK, called bool) {
			t.Helper()
			if c := status.Code(err); c != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", c, err, tt.wantCode)
			}
			if err != nil {
				msg := status.Convert(err).Message()
				if !strings.Contains(msg, tt.wantMsg) {
					t.Errorf("message %q does not contain %q", msg, tt.wantMsg)
				}
				for _, tok := range []string{f.good, f.forged, f.expired} {
					if strings.Contains(msg, tok) || strings.Contains(msg, strings.Split(tok, ".")[1]) {
						t.Errorf("message echoes the token: %q", msg)
					}
				}
				if called {
					t.Error("handler ran despite the rejection")
				}
				return
			}
			if !called {
				t.Fatal("handler not called")
			}
			switch {
			case tt.wantP == nil && gotOK:
				t.Errorf("anonymous call carried principal %v", got)
			case tt.wantP != nil && (!gotOK || got != *tt.wantP):
				t.Errorf("principal = %v, %v; want %v", got, gotOK, *tt.wantP)
			}
		}

		t.Run("unary/"+tt.name, func(t *testing.T) {
			var (
				got           Principal
				gotOK, called bool
			)
			resp, err := UnaryServerInterceptor(f.v, isPublic)(ctx, "req", &grpc.UnaryServerInfo{FullMethod: tt.method},
				func(ctx context.Context, req any) (any, error) {
					called = true
					got, gotOK = FromContext(ctx)
					return "resp", nil
				})
			check(t, err, got, gotOK, called)
			if err == nil && resp != "resp" {
				t.Errorf("response = %v, want the handler's", resp)
			}
		})
		t.Run("stream/"+tt.name, func(t *testing.T) {
			var (
				got           Principal
				gotOK, called bool
			)
			err := StreamServerInterceptor(f.v, isPublic)(nil, fakeStream{ctx: ctx}, &grpc.StreamServerInfo{FullMethod: tt.method},
				func(srv any, ss grpc.ServerStream) error {
					called = true
					got, gotOK = FromContext(ss.Context())
					return nil
				})
			check(t, err, got, gotOK, called)
		})
	}
}

type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }

// TestEndToEnd runs the interceptors in a real gRPC server, with the client
// sending its token through BearerToken, to check that the pieces agree on
// the metadata format.
func TestEndToEnd(t *testing.T) {
	f := newInterceptorFixture(t)
	seen := make(chan Principal, 1)
	record := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		p, _ := FromContext(ctx)
		seen <- p
		return h(ctx, req)
	}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(UnaryServerInterceptor(f.v, nil), record),
		grpc.ChainStreamInterceptor(StreamServerInterceptor(f.v, nil)),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	dial := func(opts ...grpc.DialOption) healthpb.HealthClient {
		t.Helper()
		opts = append(opts,
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
			grpc.WithTransportCredentials(insecure.NewCredentials()))
		conn, err := grpc.NewClient("passthrough:///bufnet", opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return healthpb.NewHealthClient(conn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	authed := dial(grpc.WithPerRPCCredentials(BearerToken(f.good)))
	if _, err := authed.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("Check with token: %v", err)
	}
	if p := <-seen; p != validPrincipals[4] {
		t.Errorf("handler saw principal %v, want %v", p, validPrincipals[4])
	}

	anon := dial()
	if _, err := anon.Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("Check without token = %v, want Unauthenticated", err)
	}

	// Streaming: Watch sends the current status first, so receiving one
	// message proves the call was admitted.
	stream, err := authed.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Errorf("Watch with token: %v", err)
	}
	stream, err = dial(grpc.WithPerRPCCredentials(BearerToken(f.forged))).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("Watch with forged token = %v, want Unauthenticated", err)
	}
}

func TestRequire(t *testing.T) {
	org := validPrincipals[3]
	authed := WithPrincipal(context.Background(), org)
	tests := []struct {
		name     string
		ctx      context.Context
		roles    []Role
		wantCode codes.Code
	}{
		{"role listed", authed, []Role{RoleMigrationsverket, RoleOrganiser}, codes.OK},
		{"only role", authed, []Role{RoleOrganiser}, codes.OK},
		{"role not listed", authed, []Role{RoleMigrationsverket, RoleCountyBoard}, codes.PermissionDenied},
		{"no roles means any authenticated caller", authed, nil, codes.OK},
		{"unauthenticated", context.Background(), []Role{RoleOrganiser}, codes.Unauthenticated},
		{"unauthenticated, no roles", context.Background(), nil, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Require(tt.ctx, tt.roles...)
			if c := status.Code(err); c != tt.wantCode {
				t.Fatalf("Require = %v, want %v", err, tt.wantCode)
			}
			if tt.wantCode == codes.OK && p != org {
				t.Errorf("principal = %v, want %v", p, org)
			}
			if tt.wantCode != codes.OK && p != (Principal{}) {
				t.Errorf("principal %v returned with an error", p)
			}
		})
	}
	_, err := Require(authed, RoleMigrationsverket, RoleCountyBoard)
	msg := status.Convert(err).Message()
	for _, want := range []string{`"organiser"`, "migrationsverket", "lansstyrelse"} {
		if !strings.Contains(msg, want) {
			t.Errorf("PermissionDenied message %q does not mention %s", msg, want)
		}
	}
	// Denying an asylum seeker must not reveal the dossier.
	_, err = Require(WithPrincipal(context.Background(), validPrincipals[4]), RoleOrganiser)
	assertNoDossier(t, status.Convert(err).Message())
}

func TestBearerToken(t *testing.T) {
	c := BearerToken("abc.def.ghi")
	md, err := c.GetRequestMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := md["authorization"]; got != "Bearer abc.def.ghi" || len(md) != 1 {
		t.Errorf("metadata = %v, want only authorization: Bearer abc.def.ghi", md)
	}
	if c.RequireTransportSecurity() {
		t.Error("RequireTransportSecurity = true; loopback and in-process connections would refuse to send the token")
	}
}
