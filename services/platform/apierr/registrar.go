package apierr

import (
	"context"

	"google.golang.org/grpc"

	"github.com/tia-platform/tia/services/platform/grpcwrap"
)

// Registrar wraps r so that every method of every service registered
// through it returns its errors through t. The conversion runs innermost,
// inside the interceptor chain, so call logging and metrics see the final
// code; it applies alike to network servers and the in-process channel.
func Registrar(r grpc.ServiceRegistrar, t Table) grpc.ServiceRegistrar {
	return grpcwrap.Registrar(r, t.unary, t.stream)
}

func (t Table) unary(h grpc.MethodHandler) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		if interceptor == nil {
			resp, err := h(srv, ctx, dec, nil)
			return resp, t.Status(ctx, err)
		}
		return h(srv, ctx, dec, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			return interceptor(ctx, req, info, func(ctx context.Context, req any) (any, error) {
				resp, err := handler(ctx, req)
				if err != nil {
					return nil, t.Status(ctx, err)
				}
				return resp, nil
			})
		})
	}
}

func (t Table) stream(h grpc.StreamHandler) grpc.StreamHandler {
	return func(srv any, stream grpc.ServerStream) error {
		return t.Status(stream.Context(), h(srv, stream))
	}
}
