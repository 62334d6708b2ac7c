package securitytest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tia-platform/tia/proto/access"
	"github.com/tia-platform/tia/services/platform/auth"
)

// The matrix's callers, in the column order of every row's want string.
// The four bad-token callers are added to every row: a token that is
// present but invalid is UNAUTHENTICATED on every method, public ones
// included (the auth interceptor never treats a bad token as anonymous).
var callerNames = []string{
	"anonymous", "migrationsverket", "lansstyrelse-own", "lansstyrelse-other", "folkbildningsradet",
	"organiser-own", "organiser-other", "organiser-unregistered", "asylum-seeker-own", "asylum-seeker-other",
}

// caller is one column of the matrix.
type caller struct {
	name string
	pr   *auth.Principal // nil: anonymous or a bad token
	tok  string
}

// row is one line of the table: a method, a request for the own resource
// (made per caller, so writes that succeed for several callers each get a
// fresh resource), and the code each caller must get.
type row struct {
	method  string // "tia.activity.v1.ActivityService/CreateActivity"
	variant string
	// req builds the request for caller c; stream rows return the
	// messages of a client stream (sent, then the stream is closed).
	req    func(w *world, c caller) proto.Message
	stream func(w *world, c caller) []proto.Message
	// want lists one code per caller in callerNames order:
	// OK, PD (PERMISSION_DENIED), NF (NOT_FOUND), UA (UNAUTHENTICATED),
	// IA (INVALID_ARGUMENT).
	want string
	// check looks at a successful answer: what a caller may see of it.
	check func(w *world, c caller, resp proto.Message) error
}

var codeNames = map[string]codes.Code{"OK": codes.OK, "PD": codes.PermissionDenied, "NF": codes.NotFound, "UA": codes.Unauthenticated, "IA": codes.InvalidArgument}

func (r row) wants(t *testing.T) []codes.Code {
	t.Helper()
	f := strings.Fields(r.want)
	if len(f) != len(callerNames) {
		t.Fatalf("%s %s: want has %d codes, need %d", r.method, r.variant, len(f), len(callerNames))
	}
	out := make([]codes.Code, len(f))
	for i, s := range f {
		c, ok := codeNames[s]
		if !ok {
			t.Fatalf("%s %s: unknown code %q", r.method, r.variant, s)
		}
		out[i] = c
	}
	return out
}

// services are the four APIs whose every method needs a row.
var services = []protoreflect.FullName{
	"tia.activity.v1.ActivityService", "tia.statistics.v1.StatisticsService",
	"tia.travel.v1.TravelService", "tia.notification.v1.NotificationService",
}

// allMethods enumerates the methods from the generated descriptors.
func allMethods(t *testing.T) map[string]protoreflect.MethodDescriptor {
	t.Helper()
	out := map[string]protoreflect.MethodDescriptor{}
	for _, s := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(s)
		if err != nil {
			t.Fatalf("service %s: %v", s, err)
		}
		ms := d.(protoreflect.ServiceDescriptor).Methods()
		for i := range ms.Len() {
			m := ms.Get(i)
			out[string(s)+"/"+string(m.Name())] = m
		}
	}
	return out
}

func TestAuthorizationMatrix(t *testing.T) {
	e := startPlatform(t)
	w := seed(t, e)

	callers := make([]caller, 0, len(callerNames)+4)
	callers = append(callers, caller{name: "anonymous"})
	for i, pr := range validPrincipals {
		callers = append(callers, caller{name: callerNames[i+1], pr: &pr, tok: e.token(t, pr)})
	}
	bad := e.badTokens(t)
	badNames := make([]string, 0, len(bad))
	for n := range bad {
		badNames = append(badNames, n)
	}
	sort.Strings(badNames)
	for _, n := range badNames {
		callers = append(callers, caller{name: "token-" + n, tok: bad[n]})
	}

	methods := allMethods(t)
	table := matrix()
	covered := map[string]bool{}
	for _, r := range table {
		if _, ok := methods[r.method]; !ok {
			t.Errorf("row for %s: no such method", r.method)
		}
		covered[r.method] = true
	}
	var missing []string
	for m := range methods {
		if !covered[m] {
			missing = append(missing, m)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s has no row in the authorization matrix: add one (every method × every caller)", m)
	}

	cells, failures := 0, 0
	for _, r := range table {
		md, ok := methods[r.method]
		if !ok {
			continue
		}
		want := r.wants(t)
		full := "/" + r.method
		for i, c := range callers {
			cells++
			var expect codes.Code
			switch {
			case i < len(callerNames):
				expect = want[i]
			default:
				expect = codes.Unauthenticated
			}
			resp, err := invoke(t, e, w, r, md, c)
			got := status.Code(err)
			if got != expect {
				failures++
				t.Errorf("%s %s as %s: got %s (%v), want %s", r.method, r.variant, c.name, got, status.Convert(err).Message(), expect)
				continue
			}
			if got == codes.OK && r.check != nil {
				if err := r.check(w, c, resp); err != nil {
					failures++
					t.Errorf("%s %s as %s: answer shows more than the caller may see: %v", r.method, r.variant, c.name, err)
				}
			}
		}
		// The public declaration and the row agree: a method anonymous
		// callers may reach is declared public, and only then.
		if public := access.IsPublic(full); public != (want[0] != codes.Unauthenticated) {
			t.Errorf("%s: access.IsPublic = %v, but its row expects %s for anonymous callers", r.method, public, want[0])
		}
	}
	t.Logf("authorization matrix: %d methods (%d rows) × %d callers = %d cells; %d cells wrong", len(methods), len(table), len(callers), cells, failures)
}

// invoke calls r's method as c through the in-process channel, which runs
// the network servers' interceptors.
func invoke(t *testing.T, e *env, w *world, r row, md protoreflect.MethodDescriptor, c caller) (proto.Message, error) {
	t.Helper()
	ctx := context.Background()
	if c.tok != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.tok)
	}
	out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		t.Fatalf("%s: output type: %v", r.method, err)
	}
	resp := out.New().Interface()
	full := "/" + r.method
	if !md.IsStreamingClient() && !md.IsStreamingServer() {
		return resp, e.p.Channel.Invoke(ctx, full, r.req(w, c), resp)
	}
	desc := &grpc.StreamDesc{StreamName: string(md.Name()), ClientStreams: md.IsStreamingClient(), ServerStreams: md.IsStreamingServer()}
	cs, err := e.p.Channel.NewStream(ctx, desc, full)
	if err != nil {
		return nil, err
	}
	var msgs []proto.Message
	if r.stream != nil {
		msgs = r.stream(w, c)
	} else {
		msgs = []proto.Message{r.req(w, c)}
	}
	for _, m := range msgs {
		if err := cs.SendMsg(m); err != nil {
			break // the server answered early; RecvMsg has its status
		}
	}
	if err := cs.CloseSend(); err != nil {
		return nil, err
	}
	return resp, cs.RecvMsg(resp)
}

// errorf is fmt.Errorf, short for the checks.
var errorf = fmt.Errorf
