package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// JSONInClientWords wraps the mux's JSON marshaler so that a body that does
// not decode is refused in the client's words: protojson reports
// `proto: (line 1:172): unknown field "langauges"`, which names neither
// where the field is nor what was meant; this decoder finds the JSON path of
// the failing token (`activity.langauges`, `focus[2]`), what the field
// expects (a timestamp, one of an enum's values…) and, for an unknown field,
// the closest known field of that message (`did you mean "languages"?`).
//
// The generated handlers flatten a decoding error into a status message, so
// the decoder also leaves the described failure with the request body
// (keepDecodeFailures) for the error handler to serve as a BadRequest.
type JSONInClientWords struct {
	runtime.Marshaler
}

// Unmarshal decodes data into v, describing a failure as NewDecoder does.
func (m JSONInClientWords) Unmarshal(data []byte, v any) error {
	if err := m.Marshaler.Unmarshal(data, v); err != nil {
		return describeDecodeError(data, 0, targetOf(v), err)
	}
	return nil
}

// NewDecoder reads one JSON value per Decode (a streamed import sends many).
func (m JSONInClientWords) NewDecoder(r io.Reader) runtime.Decoder {
	slot, _ := r.(*decodeSlot)
	rec := &recorder{r: r}
	dec := json.NewDecoder(rec)
	return runtime.DecoderFunc(func(v any) error {
		start := dec.InputOffset()
		rec.dropBefore(start)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return err
			}
			var fail *decodeError
			var tooLarge *http.MaxBytesError
			var syn *json.SyntaxError
			switch {
			case errors.As(err, &tooLarge):
				fail = &decodeError{err: err, desc: err.Error()}
			case errors.As(err, &syn):
				fail = describeDecodeError(rec.since(start), syn.Offset-start, targetOf(v), err)
			default: // io.ErrUnexpectedEOF, a type error of encoding/json
				fail = describeDecodeError(rec.since(start), int64(len(rec.since(start))), targetOf(v), err)
			}
			slot.keep(fail)
			return fail
		}
		if err := m.Marshaler.Unmarshal(raw, v); err != nil {
			fail := describeDecodeError(raw, -1, targetOf(v), err)
			slot.keep(fail)
			return fail
		}
		return nil
	})
}

// recorder keeps what the JSON decoder read since the value it decodes began,
// so that a syntax error can be placed in it; a streamed import keeps no more
// than one value and the decoder's read-ahead.
type recorder struct {
	r    io.Reader
	buf  []byte
	base int64 // stream offset of buf[0]
}

func (c *recorder) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

func (c *recorder) dropBefore(off int64) {
	if k := off - c.base; k > 0 && k <= int64(len(c.buf)) {
		c.buf = append(c.buf[:0], c.buf[k:]...)
		c.base = off
	}
}

func (c *recorder) since(off int64) []byte {
	if k := off - c.base; k >= 0 && k <= int64(len(c.buf)) {
		return c.buf[k:]
	}
	return nil
}

// decodeSlot is a request body that carries the decoder's described failure
// to the error handler, which sees the request but not the decoder.
type decodeSlot struct {
	io.ReadCloser
	failure *decodeError
}

func (s *decodeSlot) keep(fail *decodeError) {
	if s != nil && s.failure == nil {
		s.failure = fail
	}
}

// keepDecodeFailures is a mux middleware (runtime.WithMiddlewares) that gives
// each request body a decodeSlot.
func keepDecodeFailures(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &decodeSlot{ReadCloser: r.Body}
		}
		next(w, r, params)
	}
}

// decodeFailure is the failure the JSON decoder left with r's body, if any.
func decodeFailure(r *http.Request) *decodeError {
	if r == nil {
		return nil
	}
	if s, ok := r.Body.(*decodeSlot); ok {
		return s.failure
	}
	return nil
}

// decodeError is a body that did not decode, described for the client.
type decodeError struct {
	// target is the message the body was decoded into (the request, or the
	// resource field of the request that the route's body names).
	target protoreflect.MessageDescriptor
	// field is the JSON path of the failing value within target ("" for the
	// body as a whole).
	field string
	desc  string
	err   error
}

func (e *decodeError) Error() string {
	if e.field == "" {
		return "invalid JSON body: " + e.desc
	}
	return fmt.Sprintf("invalid JSON body: %s: %s", e.field, e.desc)
}

func (e *decodeError) Unwrap() error { return e.err }

// status is the failure as the client gets it, the path named from req
// (prefixed with the request's field the body was decoded into).
func (e *decodeError) status(req protoreflect.MessageDescriptor) *status.Status {
	field := e.field
	if req != nil && e.target != nil && req.FullName() != e.target.FullName() {
		fs := req.Fields()
		for i := range fs.Len() {
			if fd := fs.Get(i); !fd.IsList() && fd.Message() != nil && fd.Message().FullName() == e.target.FullName() {
				field = strings.TrimSuffix(fd.JSONName()+"."+field, ".")
				break
			}
		}
	}
	if field == "" {
		field = "body"
	}
	st := status.New(codes.InvalidArgument, fmt.Sprintf("invalid JSON body: %s: %s", field, e.desc))
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: field, Description: e.desc},
	}}); err == nil {
		return d
	}
	return st
}

// targetOf is the message a decoder fills through v (a message, or a pointer
// to the message field of a request).
func targetOf(v any) protoreflect.MessageDescriptor {
	if m, ok := v.(proto.Message); ok {
		return m.ProtoReflect().Descriptor()
	}
	for t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer; t = t.Elem() {
		if t.Implements(protoMessage) && t.Elem().Kind() == reflect.Struct {
			return reflect.New(t.Elem()).Interface().(proto.Message).ProtoReflect().Descriptor()
		}
	}
	return nil
}

var protoMessage = reflect.TypeFor[proto.Message]()

var protojsonPos = regexp.MustCompile(`\(line (\d+):(\d+)\)`)

// describeDecodeError places err in data (at byte pos, or where protojson's
// "(line L:C)" points when pos < 0) and says what is wrong there.
func describeDecodeError(data []byte, pos int64, target protoreflect.MessageDescriptor, err error) *decodeError {
	e := &decodeError{target: target, err: err}
	msg := err.Error()
	if pos < 0 {
		if m := protojsonPos.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			pos = offsetOf(data, line, col)
		}
	}
	reason := msg
	if i := strings.Index(reason, "): "); i >= 0 && protojsonPos.MatchString(reason[:i+1]) {
		reason = reason[i+3:]
	}
	reason = strings.TrimPrefix(reason, "proto: ")
	reason = strings.TrimPrefix(reason, "json: ")
	if pos < 0 {
		e.desc = reason
		return e
	}
	segs, isKey := jsonPathAt(data, pos)
	w := walkJSONPath(target, segs)
	e.field = w.path
	var syn *json.SyntaxError
	isSyntax := errors.As(err, &syn) || strings.Contains(msg, "syntax error") || errors.Is(err, io.ErrUnexpectedEOF)
	switch {
	case isKey && strings.HasPrefix(reason, "unknown field"):
		name := segs[len(segs)-1].key
		e.desc = fmt.Sprintf("unknown field %q", name)
		if s := closestField(w.parent, name); s != "" {
			e.desc += fmt.Sprintf("; did you mean %q?", s)
		} else if w.parent != nil && !opaque(w.parent) && w.parent.Fields().Len() <= 24 {
			e.desc += "; the fields are " + strings.Join(knownFields(w.parent), ", ")
		}
	case isKey && strings.HasPrefix(reason, "duplicate field"):
		e.desc = "the field is given twice"
	case strings.Contains(reason, "invalid UTF-8"):
		e.desc = "the string is not valid UTF-8"
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.HasSuffix(reason, "unexpected EOF"):
		e.desc = "the body ends inside a JSON value"
	case w.leaf != nil && !isKey:
		e.desc = fmt.Sprintf("must be %s, not %s", expected(w.leaf, w.inList), tokenAt(data, pos))
	case isSyntax:
		e.desc = "not valid JSON: " + reason
	default:
		e.desc = reason
	}
	return e
}

// offsetOf turns protojson's 1-based line and rune column into a byte offset.
func offsetOf(data []byte, line, col int) int64 {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(data); c++ {
		_, n := utf8.DecodeRune(data[off:])
		off += n
	}
	return int64(off)
}

// tokenAt is the JSON token at pos, shortened for a message.
func tokenAt(data []byte, pos int64) string {
	if pos >= int64(len(data)) {
		return "nothing"
	}
	dec := json.NewDecoder(bytes.NewReader(data[pos:]))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return "invalid JSON"
	}
	s := string(v)
	switch {
	case strings.HasPrefix(s, "{"):
		return "an object"
	case strings.HasPrefix(s, "["):
		return "an array"
	}
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return s
}

// jsonSeg is one step of a JSON path: an object key or an array index.
type jsonSeg struct {
	key   string
	index int
	isKey bool
}

// jsonPathAt is the path of the JSON token at byte pos of data, and whether
// that token is an object key. When the data ends (or breaks) before pos, it
// is the path of the last place reached.
func jsonPathAt(data []byte, pos int64) ([]jsonSeg, bool) {
	type frame struct {
		object    bool
		expectKey bool
		key       string
		index     int
	}
	var stack []frame
	path := func(withKey bool) []jsonSeg {
		var out []jsonSeg
		for i, f := range stack {
			switch {
			case f.object && (i < len(stack)-1 || withKey):
				out = append(out, jsonSeg{key: f.key, isKey: true})
			case !f.object:
				out = append(out, jsonSeg{index: f.index})
			}
		}
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].expectKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		after := dec.InputOffset()
		if err != nil {
			n := len(stack)
			return path(n > 0 && stack[n-1].object && !stack[n-1].expectKey), false
		}
		n := len(stack)
		isKey := n > 0 && stack[n-1].object && stack[n-1].expectKey
		if _, str := tok.(string); isKey && str {
			stack[n-1].key = tok.(string)
			stack[n-1].expectKey = false
			if pos >= before && pos < after {
				return path(true), true
			}
			continue
		}
		d, isDelim := tok.(json.Delim)
		if isDelim && (d == '}' || d == ']') {
			stack = stack[:n-1]
			valueDone()
			continue
		}
		if pos >= before && pos < after || pos < before {
			return path(true), false
		}
		if isDelim {
			stack = append(stack, frame{object: d == '{', expectKey: d == '{'})
			continue
		}
		valueDone()
	}
}

// walked is a JSON path resolved against a message.
type walked struct {
	path   string                         // in JSON names, keys as written where unknown
	parent protoreflect.MessageDescriptor // the message of the last key
	leaf   protoreflect.FieldDescriptor   // the field the path ends in
	inList bool                           // the path ends at an element of leaf
}

// walkJSONPath names segs by the fields of md: known fields by their JSON
// names, map keys and indexes in brackets.
func walkJSONPath(md protoreflect.MessageDescriptor, segs []jsonSeg) walked {
	var b strings.Builder
	var w walked
	cur := md
	var fd protoreflect.FieldDescriptor // the field whose value the next segment enters
	inMap := false
	for _, s := range segs {
		switch {
		case !s.isKey:
			fmt.Fprintf(&b, "[%d]", s.index)
			w.inList = fd != nil && fd.IsList()
			if fd != nil && fd.IsList() {
				cur = fd.Message()
			}
			continue
		case inMap:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(s.key))
			w.inList = true
			cur = fd.MapValue().Message()
			inMap = false
			continue
		}
		w.inList = false
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		w.parent = cur
		var f protoreflect.FieldDescriptor
		if cur != nil && !opaque(cur) {
			f = fieldByAnyName(cur, s.key)
		}
		if f == nil {
			b.WriteString(s.key)
			fd, cur, w.leaf = nil, nil, nil
			continue
		}
		b.WriteString(f.JSONName())
		fd, w.leaf = f, f
		inMap = f.IsMap()
		cur = nil
		if !f.IsList() && !f.IsMap() {
			cur = f.Message()
		}
	}
	w.path = b.String()
	return w
}

// opaque messages have a JSON form of their own, not an object of fields.
func opaque(md protoreflect.MessageDescriptor) bool {
	return strings.HasPrefix(string(md.FullName()), "google.protobuf.")
}

// expected says in words what fd takes (its elements when inList).
func expected(fd protoreflect.FieldDescriptor, inList bool) string {
	if fd.IsList() && !inList {
		return "an array of " + plural(expected(fd, true))
	}
	if fd.IsMap() && !inList {
		return "an object of " + plural(expected(fd.MapValue(), false))
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return "a string"
	case protoreflect.BytesKind:
		return "a base64 string"
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return "a whole number"
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return "a whole number (or a string of one)"
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number"
	case protoreflect.EnumKind:
		var names []string
		vs := fd.Enum().Values()
		for i := range vs.Len() {
			if vs.Get(i).Number() != 0 {
				names = append(names, string(vs.Get(i).Name()))
			}
		}
		if len(names) > 12 {
			names = append(names[:12], "…")
		}
		return "one of " + strings.Join(names, ", ")
	}
	switch fd.Message().FullName() {
	case "google.protobuf.Timestamp":
		return `an RFC 3339 timestamp such as "2026-01-10T09:00:00Z"`
	case "google.protobuf.Duration":
		return `a duration in seconds such as "3.5s"`
	case "google.protobuf.FieldMask":
		return `a comma-separated list of field names such as "title,capacity"`
	case "google.protobuf.StringValue":
		return "a string"
	case "google.protobuf.BoolValue":
		return "true or false"
	case "google.protobuf.Int32Value", "google.protobuf.UInt32Value", "google.protobuf.Int64Value", "google.protobuf.UInt64Value":
		return "a whole number"
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue":
		return "a number"
	}
	return "an object"
}

func plural(s string) string {
	for _, a := range []string{"an ", "a "} {
		if rest, ok := strings.CutPrefix(s, a); ok {
			return rest + "s"
		}
	}
	return "values that are " + s
}

// closestField is the known field of md (by JSON name) nearest to name, if
// one is near enough to be a typo of it.
func closestField(md protoreflect.MessageDescriptor, name string) string {
	if md == nil || opaque(md) {
		return ""
	}
	best, bestD := "", -1
	fs := md.Fields()
	lower := strings.ToLower(name)
	for i := range fs.Len() {
		fd := fs.Get(i)
		for _, cand := range []string{fd.JSONName(), string(fd.Name())} {
			d := levenshtein.ComputeDistance(lower, strings.ToLower(cand))
			if bestD < 0 || d < bestD {
				best, bestD = fd.JSONName(), d
			}
		}
	}
	limit := max(2, utf8.RuneCountInString(name)/3)
	if bestD < 0 || bestD > limit {
		return ""
	}
	return best
}

// knownFields lists md's JSON field names.
func knownFields(md protoreflect.MessageDescriptor) []string {
	var out []string
	fs := md.Fields()
	for i := range fs.Len() {
		out = append(out, fs.Get(i).JSONName())
	}
	slices.Sort(out)
	return out
}
