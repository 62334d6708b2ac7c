package grpcserver

import (
	"context"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	auditv1 "github.com/tia-platform/tia/proto/gen/tia/audit/v1"
	"github.com/tia-platform/tia/services/platform/auth"
)

// A caller whose role may not call a method gets 403 even for a request
// that breaks the method's rules: authorization comes before validation.
func TestRoleCheckedBeforeValidation(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	roles := func(string) []string { return []string{"migrationsverket"} }
	chain := chainUnary(roleUnary(roles), validateUnary(v))
	invalid := &auditv1.SearchAuditEntriesRequest{Parent: "not a trail"}
	info := &grpc.UnaryServerInfo{FullMethod: "/tia.travel.v1.TravelService/SearchAuditEntries"}
	handler := func(context.Context, any) (any, error) { return "ok", nil }
	tests := []struct {
		role auth.Role
		want codes.Code
	}{
		{auth.RoleOrganiser, codes.PermissionDenied},
		{auth.RoleAsylumSeeker, codes.PermissionDenied},
		{auth.RoleMigrationsverket, codes.InvalidArgument},
	}
	for _, tt := range tests {
		ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "s", Role: tt.role})
		_, err := chain(ctx, invalid, info, handler)
		if got := status.Code(err); got != tt.want {
			t.Errorf("%s: code = %v, want %v (%v)", tt.role, got, tt.want, err)
		}
	}
}
