package apierr

import (
	"context"

	"google.golang.org/grpc"
)

// Registrar wraps r so that every method of every service registered
// through it returns its errors through t. The conversion runs innermost,
// inside the interceptor chain, so call logging and metrics see the final
// code; it applies alike to network servers and the in-process channel.
func Registrar(r grpc.ServiceRegistrar, t Table) grpc.ServiceRegistrar {
	return registrar{r: r, t: t}
}

type registrar struct {
	r grpc.ServiceRegistrar
	t Table
}

func (w registrar) RegisterService(desc *grpc.ServiceDesc, impl any) {
	d := *desc
	d.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		h := m.Handler
		d.Methods[i] = grpc.MethodDesc{
			MethodName: m.MethodName,
			Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
				if interceptor == nil {
					resp, err := h(srv, ctx, dec, nil)
					return resp, w.t.Status(ctx, err)
				}
				return h(srv, ctx, dec, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
					return interceptor(ctx, req, info, func(ctx context.Context, req any) (any, error) {
						resp, err := handler(ctx, req)
						if err != nil {
							return nil, w.t.Status(ctx, err)
						}
						return resp, nil
					})
				})
			},
		}
	}
	d.Streams = make([]grpc.StreamDesc, len(desc.Streams))
	for i, s := range desc.Streams {
		h := s.Handler
		s.Handler = func(srv any, stream grpc.ServerStream) error {
			return w.t.Status(stream.Context(), h(srv, stream))
		}
		d.Streams[i] = s
	}
	w.r.RegisterService(&d, impl)
}
