package app

import (
	"context"

	"google.golang.org/grpc"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/grpcwrap"
)

// Preauthorizing is implemented by services whose scope checks need their
// own data (does this organiser work in the county board's län? is this
// organiser addressed by the consultation?): the validation interceptor
// asks Preauthorize before it answers a request that breaks the method's
// rules, so an out-of-scope caller gets 403 instead of the violations.
type Preauthorizing interface {
	Preauthorize(ctx context.Context, fullMethod string, req any) error
}

// preauthRegistrar puts the service's preauthorizer in the context of
// every unary call, ahead of the interceptor chain.
func preauthRegistrar(r grpc.ServiceRegistrar, p Preauthorizing, errs apierr.Table) grpc.ServiceRegistrar {
	pre := auth.Preauthorizer(func(ctx context.Context, method string, req any) error {
		return errs.Status(ctx, p.Preauthorize(ctx, method, req))
	})
	return grpcwrap.Registrar(r, func(h grpc.MethodHandler) grpc.MethodHandler {
		return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			return h(srv, auth.WithPreauthorizer(ctx, pre), dec, interceptor)
		}
	}, nil)
}
