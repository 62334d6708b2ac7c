package grpcserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// The call log: one "finished call" line per call with the fields of
// go-grpc-middleware's logging interceptor (protocol, grpc.component,
// grpc.service, grpc.method, grpc.method_type, peer.address,
// grpc.start_time, grpc.request.deadline, grpc.code, grpc.error,
// grpc.time_ms) at its default server levels. Unlike that interceptor, it
// builds nothing before the call and nothing at all when the logger does not
// take the call's level: the request path of a service logging at warn
// level pays one Enabled check. Payloads are never logged, because requests
// carry dossier numbers.

func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		logCall(ctx, log, info.FullMethod, "unary", start, err)
		return resp, err
	}
}

func logStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		typ := "bidi_stream"
		switch {
		case info.IsClientStream && !info.IsServerStream:
			typ = "client_stream"
		case !info.IsClientStream && info.IsServerStream:
			typ = "server_stream"
		}
		logCall(ss.Context(), log, info.FullMethod, typ, start, err)
		return err
	}
}

func logCall(ctx context.Context, log *slog.Logger, fullMethod, typ string, start time.Time, err error) {
	if errors.Is(err, io.EOF) {
		err = nil
	}
	code := status.Code(err)
	level := codeLevel(code)
	if !log.Enabled(ctx, level) {
		return
	}
	service, method := splitMethod(fullMethod)
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("protocol", "grpc"), slog.String("grpc.component", "server"),
		slog.String("grpc.service", service), slog.String("grpc.method", method), slog.String("grpc.method_type", typ))
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		attrs = append(attrs, slog.String("peer.address", p.Addr.String()))
	}
	attrs = append(attrs, slog.String("grpc.start_time", start.Format(time.RFC3339)))
	if d, ok := ctx.Deadline(); ok {
		attrs = append(attrs, slog.String("grpc.request.deadline", d.Format(time.RFC3339)))
	}
	attrs = append(attrs, slog.String("grpc.code", code.String()))
	if err != nil {
		attrs = append(attrs, slog.String("grpc.error", err.Error()))
	}
	attrs = append(attrs, slog.Float64("grpc.time_ms", float64(time.Since(start).Microseconds())/1000))
	log.LogAttrs(ctx, level, "finished call", attrs...)
}

// codeLevel is go-grpc-middleware's DefaultServerCodeToLevel: a caller's
// mistake is info, a refusal or an unavailable dependency warn, our own
// fault error.
func codeLevel(code codes.Code) slog.Level {
	switch code {
	case codes.OK, codes.NotFound, codes.Canceled, codes.AlreadyExists, codes.InvalidArgument, codes.Unauthenticated:
		return slog.LevelInfo
	case codes.DeadlineExceeded, codes.PermissionDenied, codes.ResourceExhausted, codes.FailedPrecondition, codes.Aborted,
		codes.OutOfRange, codes.Unavailable:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

// splitMethod splits "/tia.activity.v1.ActivityService/GetActivity" into
// the service and the method.
func splitMethod(fullMethod string) (service, method string) {
	s := strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "unknown", "unknown"
}
