// Package inproc is the embedded default's in-process gRPC channel: the REST
// edge and the services that call each other reach every service through it,
// with the same server interceptors and stats handlers as over the network.
//
// Streams go through grpchan's inprocgrpc.Channel. Unary calls, almost every
// call the edge makes, run synchronously on the caller's goroutine: no
// goroutine, channel or stack growth per call (inprocgrpc starts a goroutine
// for each call and passes the answer over a channel). What the server sees
// is the same as with inprocgrpc: a copy of the request, a context that ends
// with the caller's but carries none of its values (only the outgoing
// metadata, as incoming metadata, and the peer), and the caller gets a copy of
// the answer, the headers and trailers the handler set, and the handler's
// error as returned.
package inproc

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fullstorydev/grpchan/inprocgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Options are the server side's interceptors and both sides' stats handlers.
type Options struct {
	Unary       grpc.UnaryServerInterceptor
	Stream      grpc.StreamServerInterceptor
	ServerStats stats.Handler
	ClientStats stats.Handler
}

// A Channel is a grpc.ClientConnInterface and a grpc.ServiceRegistrar whose
// calls are served in this process.
type Channel struct {
	streams *inprocgrpc.Channel
	opts    Options
	mu      sync.Mutex                       // serialises RegisterService
	methods atomic.Pointer[map[string]unary] // full method name → handler; replaced whole on register
}

type unary struct {
	impl    any
	handler grpc.MethodHandler
}

var (
	_ grpc.ClientConnInterface = (*Channel)(nil)
	_ grpc.ServiceRegistrar    = (*Channel)(nil)
)

// New returns a channel with no services.
func New(o Options) *Channel {
	s := new(inprocgrpc.Channel)
	if o.Unary != nil {
		s = s.WithServerUnaryInterceptor(o.Unary)
	}
	if o.Stream != nil {
		s = s.WithServerStreamInterceptor(o.Stream)
	}
	if o.ServerStats != nil {
		s = s.WithServerStatsHandler(o.ServerStats)
	}
	if o.ClientStats != nil {
		s = s.WithClientStatsHandler(o.ClientStats)
	}
	c := &Channel{streams: s, opts: o}
	c.methods.Store(&map[string]unary{})
	return c
}

// RegisterService makes the service's methods callable through c.
func (c *Channel) RegisterService(desc *grpc.ServiceDesc, impl any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streams.RegisterService(desc, impl)
	old := *c.methods.Load()
	methods := make(map[string]unary, len(old)+len(desc.Methods))
	for k, v := range old {
		methods[k] = v
	}
	for _, m := range desc.Methods {
		methods["/"+desc.ServiceName+"/"+m.MethodName] = unary{impl: impl, handler: m.Handler}
	}
	c.methods.Store(&methods)
}

// GetServiceInfo reports the registered services, as a grpc.Server does.
func (c *Channel) GetServiceInfo() map[string]grpc.ServiceInfo { return c.streams.GetServiceInfo() }

// NewStream opens a stream through inprocgrpc.
func (c *Channel) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.streams.NewStream(ctx, desc, method, opts...)
}

// Invoke calls a unary method on the caller's goroutine.
func (c *Channel) Invoke(ctx context.Context, method string, req, reply any, opts ...grpc.CallOption) (err error) {
	if !strings.HasPrefix(method, "/") {
		method = "/" + method
	}
	m, ok := (*c.methods.Load())[method]
	in, inOK := req.(proto.Message)
	out, outOK := reply.(proto.Message)
	if !ok || !inOK || !outOK || in == nil {
		// Unknown methods and anything but protobuf messages: inprocgrpc
		// answers them (Unimplemented, its codecs) as before.
		return c.streams.Invoke(ctx, method, req, reply, opts...)
	}

	for _, o := range opts {
		if o, ok := o.(grpc.PerRPCCredsCallOption); ok {
			if ctx, err = withCredentials(ctx, o.Creds, method); err != nil {
				return err
			}
		}
	}

	client := c.opts.ClientStats
	if client != nil {
		ctx = client.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
		client.HandleRPC(ctx, &stats.Begin{Client: true, BeginTime: time.Now()})
		client.HandleRPC(ctx, &stats.OutPayload{Client: true, Payload: req, SentTime: time.Now()})
		defer func() { client.HandleRPC(ctx, &stats.End{Client: true, EndTime: time.Now(), Error: err}) }()
	}

	sts := &transportStream{method: method}
	sctx := grpc.NewContextWithServerTransportStream(serverContext(ctx), sts)
	resp, err := c.serve(sctx, method, m, in)
	sts.finish()

	header, trailer := sts.metadata()
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = header
		case grpc.TrailerCallOption:
			*o.TrailerAddr = trailer
		case grpc.PeerCallOption:
			*o.PeerAddr = *inProcess
		}
	}
	if client != nil && len(header) > 0 {
		client.HandleRPC(ctx, &stats.InHeader{Client: true, Header: header})
	}
	if err == nil {
		answer, ok := resp.(proto.Message)
		if !ok || answer == nil || !answer.ProtoReflect().IsValid() {
			return status.Errorf(codes.Internal, "handler of %s returned neither an error nor a message", method)
		}
		proto.Reset(out)
		proto.Merge(out, answer)
		if client != nil {
			client.HandleRPC(ctx, &stats.InPayload{Client: true, Payload: reply, RecvTime: time.Now()})
		}
	}
	if client != nil && len(trailer) > 0 {
		client.HandleRPC(ctx, &stats.InTrailer{Client: true, Trailer: trailer})
	}
	if err == nil && ctx.Err() != nil {
		// The caller gave up: it gets what it would have got from the
		// network, not an answer it no longer waits for.
		return status.FromContextError(ctx.Err()).Err()
	}
	return err
}

// withCredentials adds what per-call credentials (grpc.PerRPCCredentials)
// ask for to the call's outgoing metadata, as inprocgrpc does. The channel
// never leaves the process, so it counts as secure.
func withCredentials(ctx context.Context, creds credentials.PerRPCCredentials, method string) (context.Context, error) {
	md, err := creds.GetRequestMetadata(ctx, "inproc:0"+method)
	if err != nil {
		return ctx, status.Errorf(codes.Unauthenticated, "per-call credentials: %v", err)
	}
	if len(md) == 0 {
		return ctx, nil
	}
	out, _ := metadata.FromOutgoingContext(ctx)
	return metadata.NewOutgoingContext(ctx, metadata.Join(out, metadata.New(md))), nil
}

// serve runs the method's handler with the server's interceptors and stats
// handler, decoding into the handler's request a copy of in.
func (c *Channel) serve(ctx context.Context, method string, m unary, in proto.Message) (resp any, err error) {
	if h := c.opts.ServerStats; h != nil {
		ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
		h.HandleRPC(ctx, &stats.Begin{BeginTime: time.Now()})
		defer func() { h.HandleRPC(ctx, &stats.End{EndTime: time.Now(), Error: err}) }()
	}
	dec := func(target any) error {
		t, ok := target.(proto.Message)
		if !ok {
			return status.Errorf(codes.Internal, "request of %s: %T is not a protobuf message", method, target)
		}
		proto.Merge(t, in)
		return nil
	}
	return m.handler(m.impl, ctx, dec, c.opts.Unary)
}

// serverContext is the server's context of a call: it ends when the caller's
// ends but carries none of its values, only its outgoing metadata (as
// incoming metadata) and the in-process peer.
func serverContext(caller context.Context) context.Context {
	ctx := context.Context(valuesFree{caller})
	if md, ok := metadata.FromOutgoingContext(caller); ok {
		ctx = metadata.NewIncomingContext(ctx, md)
	}
	return peer.NewContext(ctx, inProcess)
}

// valuesFree passes on a context's deadline and cancellation but none of its
// values. Its AfterFunc lets contexts derived from it register with the
// caller's context directly instead of starting a goroutine each to wait
// for it.
type valuesFree struct{ context.Context }

func (valuesFree) Value(any) any { return nil }

func (c valuesFree) AfterFunc(f func()) func() bool { return context.AfterFunc(c.Context, f) }

// inProcess is the peer of every call (handlers only read it).
var inProcess = &peer.Peer{Addr: addr{}}

type addr struct{}

func (addr) Network() string { return "inproc" }
func (addr) String() string  { return "0" }

// transportStream collects the headers and trailers a unary handler sets
// (grpc.SetHeader, grpc.SendHeader, grpc.SetTrailer).
type transportStream struct {
	method string

	mu      sync.Mutex
	header  metadata.MD
	trailer metadata.MD
	sent    bool // headers sent (SendHeader) or the call finished
	done    bool // the call finished: trailers are final
}

func (s *transportStream) Method() string { return s.method }

func (s *transportStream) SetHeader(md metadata.MD) error  { return s.add(md, false, false) }
func (s *transportStream) SendHeader(md metadata.MD) error { return s.add(md, false, true) }
func (s *transportStream) SetTrailer(md metadata.MD) error { return s.add(md, true, false) }

// add joins md to the headers or, with trailer, the trailers; send marks the
// headers sent. Headers can't change once sent, trailers once the call ended.
func (s *transportStream) add(md metadata.MD, trailer, send bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case trailer && s.done:
		return fmt.Errorf("trailers already sent")
	case trailer:
		s.trailer = join(s.trailer, md)
	case s.sent:
		return fmt.Errorf("headers already sent")
	default:
		s.header = join(s.header, md)
		s.sent = send
	}
	return nil
}

func (s *transportStream) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent, s.done = true, true
}

func (s *transportStream) metadata() (header, trailer metadata.MD) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.header, s.trailer
}

func join(to, md metadata.MD) metadata.MD {
	if to == nil {
		to = metadata.MD{}
	}
	for k, v := range md {
		to[k] = append(to[k], v...)
	}
	return to
}
