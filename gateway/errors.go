package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

// scrubStatus hides what an UNAVAILABLE, INTERNAL or UNKNOWN answer could leak
// (DSNs, hosts and ports, SQLSTATEs) before the client sees it.
//
// HOOK(edge-sec): the edge's scrubbing of internal messages lives with the
// security middleware; set this variable to that function (for example
// `func init() { scrubStatus = scrub }` in your own file). Until then the
// status passes as the service wrote it.
var scrubStatus = func(st *status.Status) *status.Status { return st }

// handleError is the mux's error handler (runtime.WithErrorHandler): it puts
// an error in the client's words and then writes it as grpc-gateway does.
//
//   - A JSON body that did not decode becomes a google.rpc.BadRequest naming
//     the field by its JSON path (unmarshal.go), instead of the flattened
//     `proto: (line 1:172): unknown field "langauges"`.
//   - Field violations that the services name by proto path
//     (`activity.kommun_code`, or `end_date` of the request's one body
//     message) are renamed to the JSON path the client wrote
//     (`activity.kommunCode`, `activity.endDate`); indexes and map keys stay.
//   - Internal messages are scrubbed (scrubStatus).
func handleError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	var custom *runtime.HTTPStatusError
	if errors.As(err, &custom) {
		err = custom.Err
	}
	st := status.Convert(err)
	if d := decodeFailure(r); d != nil && st.Code() == codes.InvalidArgument {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(d.err, &tooLarge) {
			st = status.New(codes.InvalidArgument, fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit))
			custom = &runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge}
		} else {
			st = d.status(requestType(ctx))
		}
	}
	st = scrubStatus(st)
	st = inClientWords(requestType(ctx), st)
	err = st.Err()
	if custom != nil {
		err = &runtime.HTTPStatusError{HTTPStatus: custom.HTTPStatus, Err: err}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// streamError is handleError for server-streaming methods (the payment
// file's download): the same scrubbed status in the client's words. Before
// the first piece it is the response, with its HTTP status; the document
// marshaler writes it as a unary error is written.
func streamError(ctx context.Context, err error) *status.Status {
	return inClientWords(requestType(ctx), scrubStatus(status.Convert(err)))
}

// requestType is the request message of the method the route calls, nil
// when the route is not a generated one.
func requestType(ctx context.Context) protoreflect.MessageDescriptor {
	method, ok := runtime.RPCMethod(ctx) // "/tia.activity.v1.ActivityService/CreateActivity"
	if !ok {
		return nil
	}
	name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", "."))
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return nil
	}
	if md, ok := d.(protoreflect.MethodDescriptor); ok {
		return md.Input()
	}
	return nil
}

// inClientWords renames the field violations of st to JSON paths of req, and
// the paths quoted in st's message with them.
func inClientWords(req protoreflect.MessageDescriptor, st *status.Status) *status.Status {
	if req == nil || st.Code() != codes.InvalidArgument {
		return st
	}
	details := st.Proto().GetDetails()
	if len(details) == 0 {
		return st
	}
	msg := st.Message()
	changed := false
	out := make([]*anypb.Any, 0, len(details))
	for _, a := range details {
		var br errdetails.BadRequest
		if !a.MessageIs(&br) || a.UnmarshalTo(&br) != nil {
			out = append(out, a)
			continue
		}
		for _, fv := range br.GetFieldViolations() {
			p := jsonFieldPath(req, fv.GetField())
			if p == fv.GetField() {
				continue
			}
			msg = renameInMessage(msg, fv.GetField(), p)
			fv.Field = p
			changed = true
		}
		b, err := anypb.New(&br)
		if err != nil {
			return st
		}
		out = append(out, b)
	}
	if !changed {
		return st
	}
	sp := st.Proto() // a copy
	sp.Message = msg
	sp.Details = out
	return status.FromProto(sp)
}

// renameInMessage replaces the field path old where the message quotes it as
// badrequest.Violations writes it ("old: description").
func renameInMessage(msg, old, new string) string {
	for _, sep := range []string{": ", "; "} {
		msg = strings.ReplaceAll(msg, " "+old+sep, " "+new+sep)
	}
	if strings.HasPrefix(msg, old+": ") {
		msg = new + msg[len(old):]
	}
	return msg
}

// jsonFieldPath turns a field path in proto names ("activity.kommun_code",
// "activity.focus[2]", `labels["a_b"].x`) into JSON names of the message md,
// walking into nested, repeated and map fields. A path the request does not
// know ("line 5", a CSV column) is returned unchanged. A path that starts
// with a field of the request's one body message rather than of the request
// ("end_date" of CreateActivityRequest) gets that message's prefix, so that
// every violation of a method is named from the same root.
func jsonFieldPath(md protoreflect.MessageDescriptor, path string) string {
	segs := splitPath(path)
	if len(segs) == 0 {
		return path
	}
	prefix := ""
	if fieldByAnyName(md, segs[0].name) == nil {
		body := bodyFieldFor(md, segs[0].name)
		if body == nil {
			return path
		}
		prefix = body.JSONName() + "."
		md = body.Message()
	}
	var b strings.Builder
	b.WriteString(prefix)
	cur := md
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		var fd protoreflect.FieldDescriptor
		if cur != nil {
			fd = fieldByAnyName(cur, s.name)
		}
		if fd == nil {
			b.WriteString(s.name)
			b.WriteString(s.suffix)
			cur = nil
			continue
		}
		b.WriteString(fd.JSONName())
		b.WriteString(s.suffix)
		switch {
		case fd.IsMap():
			cur = nil
			if s.suffix != "" {
				cur = fd.MapValue().Message()
			}
		default:
			cur = fd.Message()
		}
	}
	return b.String()
}

// fieldByAnyName finds a field by its proto or its JSON name.
func fieldByAnyName(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	fs := md.Fields()
	if fd := fs.ByName(protoreflect.Name(name)); fd != nil {
		return fd
	}
	return fs.ByJSONName(name)
}

// bodyFieldFor is the request's only singular field of the platform's own
// message types (the resource a Create or Update carries) that has a field
// called name; nil when there is none or more than one.
func bodyFieldFor(req protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	var found protoreflect.FieldDescriptor
	fs := req.Fields()
	for i := range fs.Len() {
		fd := fs.Get(i)
		if fd.IsList() || fd.IsMap() || fd.Message() == nil || fd.Message().ParentFile().Package() != req.ParentFile().Package() {
			continue
		}
		if fieldByAnyName(fd.Message(), name) == nil {
			continue
		}
		if found != nil {
			return nil
		}
		found = fd
	}
	return found
}

type pathSeg struct {
	name   string
	suffix string // "[2]", `["key"]`, possibly several
}

// splitPath splits "a.b[1].c[\"x.y\"]" into its segments; dots inside
// brackets or quotes belong to the key.
func splitPath(path string) []pathSeg {
	var segs []pathSeg
	var name, suffix strings.Builder
	depth, quoted := 0, false
	flush := func() {
		segs = append(segs, pathSeg{name.String(), suffix.String()})
		name.Reset()
		suffix.Reset()
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case quoted:
			suffix.WriteByte(c)
			if c == '\\' && i+1 < len(path) {
				i++
				suffix.WriteByte(path[i])
			} else if c == '"' {
				quoted = false
			}
		case depth > 0:
			suffix.WriteByte(c)
			switch c {
			case '"':
				quoted = true
			case ']':
				depth--
			}
		case c == '[':
			depth++
			suffix.WriteByte(c)
		case c == '.':
			flush()
		default:
			if suffix.Len() > 0 { // text after a bracket: not a path we know
				return nil
			}
			name.WriteByte(c)
		}
	}
	flush()
	for _, s := range segs {
		if s.name == "" || strings.ContainsAny(s.name, " ,:") {
			return nil
		}
	}
	return segs
}

// writeEdgeError writes err as the mux's error handler would, for the few
// checks the edge makes before a request reaches the mux.
func writeEdgeError(w http.ResponseWriter, _ *http.Request, err error) {
	st := status.Convert(err)
	b, merr := protojson.Marshal(st.Proto())
	if merr != nil {
		b = []byte(`{"code":13,"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(runtime.HTTPStatusFromCode(st.Code()))
	_, _ = w.Write(b)
}
