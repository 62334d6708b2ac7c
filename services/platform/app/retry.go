package app

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Retries must never apply a write twice (issue 13.2): a call that failed as
// UNAVAILABLE may still have been carried out by the instance that went
// away. So the connections retry only
//
//   - reads: Get, List, Search, Query, Count, Compare, Check and Export
//     methods change nothing; and
//   - methods whose request has an AIP-155 request_id: the service returns
//     the first result for a repeated id, and fillRequestID gives every call
//     that left it empty an id of its own, the same for all its attempts.
//
// Everything else fails on the first UNAVAILABLE, for the caller to decide.
var readPrefixes = []string{"Get", "List", "Search", "Query", "Count", "Compare", "Check", "Export"}

// retrySafe reports whether a call of md may be sent again.
func retrySafe(md protoreflect.MethodDescriptor) bool {
	for _, p := range readPrefixes {
		if strings.HasPrefix(string(md.Name()), p) {
			return true
		}
	}
	return !md.IsStreamingClient() && !md.IsStreamingServer() && requestIDField(md.Input()) != nil
}

// requestIDField is md's string field request_id, nil when it has none.
func requestIDField(md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	fd := md.Fields().ByName("request_id")
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return nil
	}
	return fd
}

// serviceConfig balances round-robin over every address the target resolves
// to (so a DNS name or list of several instances spreads the load) and
// retries the calls that are safe to repeat (retrySafe) that failed as
// UNAVAILABLE (the instance went away, e.g. while it is being replaced) on
// another instance. The methods are those of the TIA services linked into
// the binary.
func serviceConfig() string {
	type name struct {
		Service string `json:"service"`
		Method  string `json:"method"`
	}
	var names []name
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "tia.") {
			return true
		}
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				if md := sd.Methods().Get(j); retrySafe(md) {
					names = append(names, name{string(sd.FullName()), string(md.Name())})
				}
			}
		}
		return true
	})
	cfg := map[string]any{"loadBalancingConfig": []any{map[string]any{"round_robin": map[string]any{}}}}
	if len(names) > 0 {
		cfg["methodConfig"] = []any{map[string]any{
			"name": names,
			"retryPolicy": map[string]any{
				"maxAttempts": 4, "initialBackoff": "0.05s", "maxBackoff": "1s", "backoffMultiplier": 2,
				"retryableStatusCodes": []string{"UNAVAILABLE"},
			},
		}}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // a literal of maps and strings
	}
	return string(b)
}

// fillRequestID gives a request with an empty request_id a fresh one, so
// that the attempts of one call are one request to the service.
func fillRequestID(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if m, ok := req.(proto.Message); ok {
		if fd := requestIDField(m.ProtoReflect().Descriptor()); fd != nil && m.ProtoReflect().Get(fd).String() == "" {
			m = proto.Clone(m) // the caller's message stays as it was
			m.ProtoReflect().Set(fd, protoreflect.ValueOfString(uuid.NewString()))
			req = m
		}
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}
