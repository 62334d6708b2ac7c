package travel_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/app/apptest"
	"github.com/tia-platform/tia/services/travel"
)

// testKey is the pseudonym key of the tests' hosts.
var testKey = []byte("travel-test-pseudonym-key-32byte")

// hostDeps are the dependencies a host gives the service on a fresh
// database at dsn: the tables, units of work, audit trail and pseudonyms.
func hostDeps(t *testing.T, dsn string) app.Deps {
	t.Helper()
	return apptest.HostDeps(t, travel.Component, dsn, testKey)
}

// connect serves svc in process through the service's error table, as the
// host registers it, and returns a connection a generated client uses. The
// caller's context (and principal) reaches the handler unchanged.
func connect(svc app.Service) grpc.ClientConnInterface {
	var c capture
	svc.Register(apierr.Registrar(&c, apierr.Table{Domain: "travel.tia", Rules: travel.Errors}))
	p := &inproc{methods: map[string]grpc.MethodDesc{}, srv: c.impl}
	for _, m := range c.desc.Methods {
		p.methods["/"+c.desc.ServiceName+"/"+m.MethodName] = m
	}
	return p
}

type capture struct {
	desc *grpc.ServiceDesc
	impl any
}

func (c *capture) RegisterService(d *grpc.ServiceDesc, impl any) { c.desc, c.impl = d, impl }

type inproc struct {
	methods map[string]grpc.MethodDesc
	srv     any
}

func (p *inproc) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	m, ok := p.methods[method]
	if !ok {
		return status.Error(codes.Unimplemented, method)
	}
	resp, err := m.Handler(p.srv, ctx, func(v any) error {
		proto.Merge(v.(proto.Message), args.(proto.Message))
		return nil
	}, nil)
	if err != nil {
		return err
	}
	proto.Merge(reply.(proto.Message), resp.(proto.Message))
	return nil
}

func (p *inproc) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "no streams")
}

// count is the number a SELECT COUNT(*) query (with ? placeholders) gives.
func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Get(&n, e.db.Rebind(query), args...); err != nil {
		t.Fatal(err)
	}
	return n
}
