// Package grpcserver builds the gRPC server every TIA service runs, with the
// same interceptor chain everywhere: panic recovery, call logging,
// authentication, and request validation from the rules declared in the
// protos. The chain is exported so the in-process channel of the embedded
// default applies exactly the same checks as a network server.
package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tia-platform/tia/proto/access"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
)

// Options configure the interceptor chain.
type Options struct {
	Logger   *slog.Logger
	Verifier *auth.Verifier
	// IsPublic reports which methods may be called without a token.
	IsPublic func(fullMethod string) bool
	// Roles names the roles that may call a method at all (nil: any
	// signed-in role, the handler deciding by scope); access.Roles when
	// unset. It is checked before the request is validated, so a caller
	// who may not call a method learns nothing of its rules from a 400.
	Roles func(fullMethod string) []string
}

// Interceptors returns the unary and stream chains, outermost first:
// recovery, logging, authentication, the role check, validation.
func Interceptors(o Options) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor, error) {
	validator, err := protovalidate.New()
	if err != nil {
		return nil, nil, fmt.Errorf("protovalidate: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// Only the end of a call is logged: method, code and duration (calllog.go).
	recover := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		o.Logger.ErrorContext(ctx, "panic in handler", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
	roles := o.Roles
	if roles == nil {
		roles = access.Roles
	}
	// Each layer once, for unary and for stream calls, so both chains stay
	// in the same order.
	layers := []struct {
		unary  grpc.UnaryServerInterceptor
		stream grpc.StreamServerInterceptor
	}{
		{recovery.UnaryServerInterceptor(recover), recovery.StreamServerInterceptor(recover)},
		{logUnary(o.Logger), logStream(o.Logger)},
		{auth.UnaryServerInterceptor(o.Verifier, o.IsPublic), auth.StreamServerInterceptor(o.Verifier, o.IsPublic)},
		{roleUnary(roles), roleStream(roles)},
		{validateUnary(validator), validateStream(validator)},
	}
	unary := make([]grpc.UnaryServerInterceptor, len(layers))
	stream := make([]grpc.StreamServerInterceptor, len(layers))
	for i, l := range layers {
		unary[i], stream[i] = l.unary, l.stream
	}
	return chainUnary(unary...), chainStream(stream...), nil
}

// New returns a server with the interceptor chain, OpenTelemetry tracing and
// metrics, and server reflection.
func New(o Options, extra ...grpc.ServerOption) (*grpc.Server, error) {
	unary, stream, err := Interceptors(o)
	if err != nil {
		return nil, err
	}
	opts := append([]grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.UnaryInterceptor(unary),
		grpc.StreamInterceptor(stream),
	}, extra...)
	srv := grpc.NewServer(opts...)
	reflection.Register(srv)
	return srv, nil
}

// Serve serves until ctx is done, then stops taking new calls and waits up to
// drain for the calls in flight before cutting them off.
func Serve(ctx context.Context, srv *grpc.Server, lis net.Listener, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return fmt.Errorf("grpc serve: %w", err)
	case <-ctx.Done():
	}
	done := make(chan struct{})
	go func() { srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(drain):
		srv.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("grpc serve: %w", err)
	}
	return nil
}

// validateUnary checks the request against its protovalidate rules and turns
// violations into field violations (HTTP 400 at the edge).
func validateUnary(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := validate(v, req); err != nil {
			// A caller outside the resource's scope gets 403, not the
			// method's rules (the service decides, see auth.Preauthorizer).
			if perr := auth.Preauthorize(ctx, info.FullMethod, req); perr != nil {
				return nil, perr
			}
			return nil, err
		}
		return handler(ctx, req)
	}
}

func validateStream(v protovalidate.Validator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &validatingStream{ServerStream: ss, v: v})
	}
}

type validatingStream struct {
	grpc.ServerStream
	v protovalidate.Validator
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return validate(s.v, m)
}

func validate(v protovalidate.Validator, req any) error {
	msg, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	err := v.Validate(msg)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		// A rule that cannot be evaluated is our bug, not the caller's.
		return status.Error(codes.Internal, "request validation failed")
	}
	var out badrequest.Violations
	for _, viol := range verr.Violations {
		out.Add(protovalidate.FieldPathString(viol.Proto.GetField()), viol.Proto.GetMessage())
	}
	return out.Err()
}

// chainUnary composes interceptors into one, the first outermost. grpc only
// composes them inside a server; the in-process channel takes a single one.
func chainUnary(ics ...grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		next := handler
		for i := len(ics) - 1; i >= 0; i-- {
			ic, inner := ics[i], next
			next = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, inner) }
		}
		return next(ctx, req)
	}
}

// chainStream is chainUnary for streams.
func chainStream(ics ...grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		next := handler
		for i := len(ics) - 1; i >= 0; i-- {
			ic, inner := ics[i], next
			next = func(srv any, ss grpc.ServerStream) error { return ic(srv, ss, info, inner) }
		}
		return next(srv, ss)
	}
}
