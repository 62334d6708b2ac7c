package auth

import "context"

// A Preauthorizer decides, for a request that breaks the method's declared
// rules, whether the caller may call the method on that resource at all.
// The validation interceptor asks it before answering 400, so a caller
// outside the resource's scope gets 403 and learns nothing of the rules
// from the violations (authorization before validation). It sees the
// request as sent and must only read.
type Preauthorizer func(ctx context.Context, fullMethod string, req any) error

type preauthKey struct{}

// WithPreauthorizer returns a context carrying the service's preauthorizer;
// the host sets it for the calls of each service.
func WithPreauthorizer(ctx context.Context, p Preauthorizer) context.Context {
	return context.WithValue(ctx, preauthKey{}, p)
}

// Preauthorize runs the context's preauthorizer, if any.
func Preauthorize(ctx context.Context, fullMethod string, req any) error {
	p, ok := ctx.Value(preauthKey{}).(Preauthorizer)
	if !ok || p == nil {
		return nil
	}
	return p(ctx, fullMethod, req)
}
