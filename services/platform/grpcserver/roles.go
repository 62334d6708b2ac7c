package grpcserver

import (
	"context"
	"path"
	"slices"

	"google.golang.org/grpc"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
)

// checkRole refuses a signed-in caller whose role may not call method at
// all. Anonymous calls reach here only for public methods.
func checkRole(ctx context.Context, roles func(string) []string, method string) error {
	allowed := roles(method)
	if allowed == nil {
		return nil
	}
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil
	}
	if !slices.Contains(allowed, string(p.Role)) {
		return apierr.Table{}.Status(ctx, apierr.Denied("the %s role may not call %s", p.Role, path.Base(method)))
	}
	return nil
}

func roleUnary(roles func(string) []string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := checkRole(ctx, roles, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func roleStream(roles func(string) []string) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := checkRole(ss.Context(), roles, info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}
