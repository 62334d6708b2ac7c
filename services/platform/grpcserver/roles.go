package grpcserver

import (
	"context"
	"path"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/dossier"
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
		if err := checkScope(ctx, info.FullMethod, req); err != nil {
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

// readOnly reports whether a method only reads, by the AIP verbs that
// begin its name.
func readOnly(method string) bool {
	name := path.Base(method)
	for _, verb := range []string{"Get", "List", "Search", "Query", "Check", "Compare", "Verify", "Export"} {
		if strings.HasPrefix(name, verb) {
			return true
		}
	}
	return false
}

// checkScope refuses, before validation, a change that names a resource
// outside the caller's own scope: a county board writing under another
// län's lan/{lan}/…, an organiser under another organiser's
// organisers/{org}/…, or an asylum seeker naming another person's dossier
// number. The handlers check scope again (with what they know of the
// resource); this early check only keeps an out-of-scope caller from
// learning the method's rules from a 400.
func checkScope(ctx context.Context, method string, req any) error {
	if readOnly(method) {
		return nil
	}
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil
	}
	msg, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	var denied error
	visit(msg.ProtoReflect(), 0, func(field string, value string) {
		if denied != nil || value == "" {
			return
		}
		switch {
		case p.Role == auth.RoleCountyBoard && (field == "name" || field == "parent"):
			if lan, ok := segment(value, "lan"); ok && lan != p.Lan {
				denied = apierr.Denied("the county board of län %s acts only in its own län", p.Lan)
			}
		case p.Role == auth.RoleOrganiser && (field == "name" || field == "parent"):
			if org, ok := segment(value, "organisers"); ok && org != p.Org && org != "-" {
				denied = apierr.Denied("an organiser acts only on its own resources")
			}
		case p.Role == auth.RoleAsylumSeeker && field == "dossier_number":
			if dossier.Normalize(value) != p.Dossier {
				denied = apierr.Denied("an asylum seeker acts only on their own behalf")
			}
		}
	})
	if denied != nil {
		return apierr.Table{}.Status(ctx, denied)
	}
	return nil
}

// segment returns the value after the first segment named collection in a
// resource name ("lan/05/meetings/x", "lan" → "05").
func segment(name, collection string) (string, bool) {
	rest, ok := strings.CutPrefix(name, collection+"/")
	if !ok {
		return "", false
	}
	v, _, _ := strings.Cut(rest, "/")
	return v, true
}

// visit calls fn for the string fields of m and of the messages it holds,
// two levels deep (a request and the resource inside it).
func visit(m protoreflect.Message, depth int, fn func(field, value string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() || fd.IsMap():
		case fd.Kind() == protoreflect.StringKind:
			fn(string(fd.Name()), v.String())
		case fd.Kind() == protoreflect.MessageKind && depth < 1:
			visit(v.Message(), depth+1, fn)
		}
		return true
	})
}
