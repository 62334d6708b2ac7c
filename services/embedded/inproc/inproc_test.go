package inproc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fullstorydev/grpchan/inprocgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// echo answers its request's value with "!" added. It records what it saw
// and, to show that neither side shares a message with the other, changes
// its request and its last answer after answering.
type echo struct {
	ctx  context.Context
	last *wrapperspb.StringValue
}

type callerKey struct{}

func (e *echo) Echo(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	e.ctx = ctx
	if e.last != nil {
		e.last.Value = "changed after it was answered"
	}
	switch in.GetValue() {
	case "fail":
		return nil, status.Error(codes.FailedPrecondition, "told to fail")
	case "nothing":
		return nil, nil
	case "wait":
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-header", "h")); err != nil {
		return nil, err
	}
	if err := grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t")); err != nil {
		return nil, err
	}
	out := &wrapperspb.StringValue{Value: in.GetValue() + "!"}
	in.Value = "changed by the server"
	e.last = out
	return out, nil
}

const echoMethod = "/test.Echo/Echo"

var echoDesc = grpc.ServiceDesc{
	ServiceName: "test.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) {
				return srv.(*echo).Echo(ctx, req.(*wrapperspb.StringValue))
			}
			if icpt == nil {
				return call(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: echoMethod}, call)
		},
	}},
}

type token string

func (t token) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}
func (token) RequireTransportSecurity() bool { return true }

func TestInvoke(t *testing.T) {
	var intercepted []string
	c := New(Options{Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		intercepted = append(intercepted, info.FullMethod)
		return h(ctx, req)
	}})
	srv := &echo{}
	c.RegisterService(&echoDesc, srv)

	caller := context.WithValue(context.Background(), callerKey{}, "secret")
	caller = metadata.AppendToOutgoingContext(caller, "x-request", "r")
	caller, cancel := context.WithTimeout(caller, time.Minute)
	defer cancel()

	req := &wrapperspb.StringValue{Value: "hej"}
	reply := new(wrapperspb.StringValue)
	var header, trailer metadata.MD
	if err := c.Invoke(caller, echoMethod, req, reply, grpc.Header(&header), grpc.Trailer(&trailer),
		grpc.PerRPCCredentials(token("tok"))); err != nil {
		t.Fatal(err)
	}
	if reply.GetValue() != "hej!" || req.GetValue() != "hej" {
		t.Errorf("reply %q, request after the call %q; want hej! and hej (the server changes its copy only)", reply.GetValue(), req.GetValue())
	}
	if got := header.Get("x-header"); len(got) != 1 || got[0] != "h" {
		t.Errorf("header x-header = %v, want [h]", got)
	}
	if got := trailer.Get("x-trailer"); len(got) != 1 || got[0] != "t" {
		t.Errorf("trailer x-trailer = %v, want [t]", got)
	}
	if len(intercepted) != 1 || intercepted[0] != echoMethod {
		t.Errorf("interceptor saw %v, want [%s]", intercepted, echoMethod)
	}

	// The server's context: the caller's deadline and metadata, none of its values.
	if v := srv.ctx.Value(callerKey{}); v != nil {
		t.Errorf("the server sees the caller's value %v", v)
	}
	if d, ok := srv.ctx.Deadline(); !ok || d.IsZero() {
		t.Error("the server's context has no deadline")
	}
	md, _ := metadata.FromIncomingContext(srv.ctx)
	if got := md.Get("x-request"); len(got) != 1 || got[0] != "r" {
		t.Errorf("incoming x-request = %v, want [r]", got)
	}
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer tok" {
		t.Errorf("incoming authorization = %v, want [Bearer tok]", got)
	}
	if m, ok := grpc.Method(srv.ctx); !ok || m != echoMethod {
		t.Errorf("grpc.Method = %q, want %s", m, echoMethod)
	}

	// The answer is the caller's own copy.
	if err := c.Invoke(context.Background(), echoMethod, &wrapperspb.StringValue{Value: "again"}, new(wrapperspb.StringValue)); err != nil {
		t.Fatal(err)
	}
	if reply.GetValue() != "hej!" {
		t.Errorf("an earlier reply changed to %q when the server changed its answer", reply.GetValue())
	}
}

func TestInvokeErrors(t *testing.T) {
	c := New(Options{})
	c.RegisterService(&echoDesc, &echo{})
	ctx := context.Background()
	for _, tc := range []struct {
		name, method, value string
		ctx                 func() (context.Context, context.CancelFunc)
		code                codes.Code
	}{
		{name: "handler error", method: echoMethod, value: "fail", code: codes.FailedPrecondition},
		{name: "neither answer nor error", method: echoMethod, value: "nothing", code: codes.Internal},
		{name: "unknown method", method: "/test.Echo/Other", value: "x", code: codes.Unimplemented},
		{name: "unknown service", method: "/test.Nobody/Echo", value: "x", code: codes.Unimplemented},
		{name: "caller's deadline", method: echoMethod, value: "wait", code: codes.DeadlineExceeded,
			ctx: func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 20*time.Millisecond) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cctx, cancel := ctx, context.CancelFunc(func() {})
			if tc.ctx != nil {
				cctx, cancel = tc.ctx()
			}
			defer cancel()
			err := c.Invoke(cctx, tc.method, &wrapperspb.StringValue{Value: tc.value}, new(wrapperspb.StringValue))
			if got := status.Code(err); got != tc.code {
				t.Errorf("code %v (%v), want %v", got, err, tc.code)
			}
		})
	}
}

// Streams go through inprocgrpc: the health service's Watch.
func TestStream(t *testing.T) {
	c := New(Options{})
	h := health.NewServer()
	c.RegisterService(&healthpb.Health_ServiceDesc, h)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := healthpb.NewHealthClient(c).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("status %v, want SERVING", got.GetStatus())
	}
	// And the unary method of the same service.
	r, err := healthpb.NewHealthClient(c).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("Check = %v, %v", r, err)
	}
	if _, ok := c.GetServiceInfo()["grpc.health.v1.Health"]; !ok {
		t.Error("GetServiceInfo does not list the health service")
	}
}

func TestNoGoroutinePerCall(t *testing.T) {
	c := New(Options{})
	c.RegisterService(&echoDesc, &echo{})
	// A cancellable caller, as an HTTP request's context is: contexts the
	// handler derives from the server's context must not each start a
	// goroutine to wait for it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sctx := serverContext(ctx)
	child, stop := context.WithCancel(sctx)
	defer stop()
	cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a context derived from the server's did not end with the caller's")
	}
	if !errors.Is(child.Err(), context.Canceled) {
		t.Errorf("derived context's error %v, want canceled", child.Err())
	}
}

// BenchmarkInvoke compares a unary call through this channel with the same
// call through inprocgrpc.
func BenchmarkInvoke(b *testing.B) {
	ours := New(Options{})
	ours.RegisterService(&echoDesc, &echo{})
	theirs := new(inprocgrpc.Channel)
	theirs.RegisterService(&echoDesc, &echo{})
	for _, bc := range []struct {
		name string
		ch   grpc.ClientConnInterface
	}{{"inproc", ours}, {"inprocgrpc", theirs}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.ch.Invoke(ctx, echoMethod, &wrapperspb.StringValue{Value: "x"}, new(wrapperspb.StringValue)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestTransportStream(t *testing.T) {
	s := &transportStream{method: echoMethod}
	if err := s.SetHeader(metadata.Pairs("a", "1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SendHeader(metadata.Pairs("a", "2")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHeader(metadata.Pairs("b", "1")); err == nil {
		t.Error("SetHeader after SendHeader succeeded")
	}
	if err := s.SetTrailer(metadata.Pairs("t", "1")); err != nil {
		t.Errorf("SetTrailer after SendHeader: %v", err)
	}
	s.finish()
	if err := s.SetTrailer(metadata.Pairs("t", "2")); err == nil {
		t.Error("SetTrailer after the call ended succeeded")
	}
	header, trailer := s.metadata()
	if got := header.Get("a"); len(got) != 2 || got[0] != "1" || got[1] != "2" || len(header.Get("b")) != 0 {
		t.Errorf("header %v, want a=[1 2]", header)
	}
	if got := trailer.Get("t"); len(got) != 1 || got[0] != "1" {
		t.Errorf("trailer %v, want t=[1]", trailer)
	}
}
