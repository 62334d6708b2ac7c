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

// Out-of-scope changes are refused before validation too.
func TestScopeCheckedBeforeValidation(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	chain := chainUnary(roleUnary(func(string) []string { return nil }), validateUnary(v))
	handler := func(context.Context, any) (any, error) { return "ok", nil }
	write := &grpc.UnaryServerInfo{FullMethod: "/tia.x.v1.X/CreateThing"}
	read := &grpc.UnaryServerInfo{FullMethod: "/tia.x.v1.X/SearchAuditEntries"}
	lst12 := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "s", Role: auth.RoleCountyBoard, Lan: "12"})
	seeker := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "s", Role: auth.RoleAsylumSeeker, Dossier: "12-345678"})
	tests := []struct {
		name string
		ctx  context.Context
		info *grpc.UnaryServerInfo
		req  *auditv1.SearchAuditEntriesRequest
		want codes.Code
	}{
		{"other län, write", lst12, write, &auditv1.SearchAuditEntriesRequest{Parent: "lan/01/meetings/x", PageSize: -1}, codes.PermissionDenied},
		{"own län, write, invalid", lst12, write, &auditv1.SearchAuditEntriesRequest{Parent: "lan/12/meetings/x"}, codes.InvalidArgument},
		{"other län, read", lst12, read, &auditv1.SearchAuditEntriesRequest{Parent: "lan/01/meetings/x"}, codes.InvalidArgument},
		{"other person", seeker, write, &auditv1.SearchAuditEntriesRequest{Parent: "x", DossierNumber: "98-765432"}, codes.PermissionDenied},
		{"own person, card serial", seeker, write, &auditv1.SearchAuditEntriesRequest{Parent: "x", DossierNumber: "12-345678/1"}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		_, err := chain(tt.ctx, tt.req, tt.info, handler)
		if got := status.Code(err); got != tt.want {
			t.Errorf("%s: code = %v, want %v (%v)", tt.name, got, tt.want, err)
		}
	}
}
