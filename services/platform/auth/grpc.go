package auth

import (
	"context"
	"errors"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// authorizationKey is the metadata key for bearer tokens. gRPC lower-cases
// all metadata keys, so this matches an "Authorization" header sent over HTTP/2
// or through a gateway.
const authorizationKey = "authorization"

// UnaryServerInterceptor authenticates unary calls from the
// "authorization: Bearer <token>" metadata and stores the Principal in the
// handler's context.
//
// For methods where isPublic(fullMethod) is true a token is optional, so
// that anonymous callers get through with no Principal in the context. A
// token that is present but invalid is still rejected, even on public
// methods: silently downgrading a caller who believes they are signed in
// would produce confusing, anonymous-looking results. A nil isPublic makes
// every method require a token.
//
// Rejections use codes.Unauthenticated with a message that never contains the
// token.
func UnaryServerInterceptor(v *Verifier, isPublic func(fullMethod string) bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := authenticate(ctx, v, isPublic, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is the streaming counterpart of
// UnaryServerInterceptor, with the same rules.
func StreamServerInterceptor(v *Verifier, isPublic func(fullMethod string) bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := authenticate(ss.Context(), v, isPublic, info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &principalStream{ServerStream: ss, ctx: ctx})
	}
}

// principalStream replaces the stream's context, which grpc.ServerStream
// offers no other way to do.
type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *principalStream) Context() context.Context { return s.ctx }

func authenticate(ctx context.Context, v *Verifier, isPublic func(string) bool, fullMethod string) (context.Context, error) {
	token, err := bearerToken(ctx)
	if err != nil {
		return nil, err
	}
	if token == "" {
		if isPublic != nil && isPublic(fullMethod) {
			return ctx, nil
		}
		return nil, status.Error(codes.Unauthenticated, "missing bearer token")
	}
	p, err := v.Verify(token)
	if err != nil {
		if errors.Is(err, ErrTokenExpired) {
			return nil, status.Error(codes.Unauthenticated, "bearer token expired")
		}
		// Verify's errors are safe, but the reason is only useful to
		// someone probing which checks a forged token passes.
		return nil, status.Error(codes.Unauthenticated, "invalid bearer token")
	}
	return WithPrincipal(ctx, p), nil
}

// bearerToken extracts the token from the incoming metadata. It returns ""
// and no error when there is no authorization header at all.
func bearerToken(ctx context.Context) (string, error) {
	// ValueFromIncomingContext reads the one key without copying the
	// whole metadata, as FromIncomingContext does, on every call.
	values := metadata.ValueFromIncomingContext(ctx, authorizationKey)
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		// Which of several tokens would apply is ambiguous; proxies that
		// append headers make this a real, if rare, case.
		return "", status.Error(codes.Unauthenticated, "multiple authorization headers")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimSpace(token)
	// The scheme is case-insensitive (RFC 7235 section 2.1).
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", status.Error(codes.Unauthenticated, `authorization header must be "Bearer <token>"`)
	}
	return token, nil
}

// Require returns the caller's Principal if it has one of roles. It fails
// with codes.Unauthenticated when the context carries no Principal and with
// codes.PermissionDenied when the role is not listed. With no roles, any
// authenticated caller is accepted.
//
// Require only checks the role; handlers must still compare the Principal's
// scope (Lan, Org, Dossier) with the resource being accessed.
func Require(ctx context.Context, roles ...Role) (Principal, error) {
	p, ok := FromContext(ctx)
	if !ok {
		return Principal{}, status.Error(codes.Unauthenticated, "authentication required")
	}
	if len(roles) == 0 || slices.Contains(roles, p.Role) {
		return p, nil
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return Principal{}, status.Errorf(codes.PermissionDenied,
		"role %q is not permitted to perform this operation (allowed: %s)", p.Role, strings.Join(names, ", "))
}

// BearerToken returns per-RPC credentials that send token as
// "authorization: Bearer <token>", for service-to-service calls and tests.
// Use it with grpc.WithPerRPCCredentials or grpc.PerRPCCredentials.
func BearerToken(token string) credentials.PerRPCCredentials {
	return bearerCredentials{token: token}
}

type bearerCredentials struct{ token string }

func (c bearerCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{authorizationKey: "Bearer " + c.token}, nil
}

// RequireTransportSecurity returns false because the platform's services talk
// to each other over loopback or in-process connections (the embedded mode
// and tests use insecure transports), and gRPC refuses to send credentials
// that require transport security over those. The price is that nothing
// stops the token from being sent in clear text: across a real network,
// dial with TLS.
func (bearerCredentials) RequireTransportSecurity() bool { return false }
