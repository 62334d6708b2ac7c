package main

import (
	"strings"

	validate "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tia-platform/tia/proto/access"
	_ "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	_ "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	_ "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	_ "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
)

// protoIndex finds the services and messages of the platform's protos, as
// compiled into proto/gen.
type protoIndex struct {
	services map[string]protoreflect.ServiceDescriptor // by short name
	messages []protoreflect.MessageDescriptor
}

func indexProtos() *protoIndex {
	idx := &protoIndex{services: map[string]protoreflect.ServiceDescriptor{}}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(fd.Path(), "tia/") {
			return true
		}
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			idx.services[string(sd.Name())] = sd
		}
		var walk func(protoreflect.MessageDescriptors)
		walk = func(ms protoreflect.MessageDescriptors) {
			for i := range ms.Len() {
				idx.messages = append(idx.messages, ms.Get(i))
				walk(ms.Get(i).Messages())
			}
		}
		walk(fd.Messages())
		return true
	})
	return idx
}

func (x *protoIndex) method(service, name string) protoreflect.MethodDescriptor {
	sd := x.services[service]
	if sd == nil {
		return nil
	}
	return sd.Methods().ByName(protoreflect.Name(name))
}

// message finds the message a component schema was generated from: by its
// name under the "simple" naming strategy (the shortest unique suffix of the
// full name), or, for "XBody", the request message XRequest whose body it is.
func (x *protoIndex) message(schema string) protoreflect.MessageDescriptor {
	if md := x.bySuffix(schema); md != nil {
		return md
	}
	if base, ok := strings.CutSuffix(schema, "Body"); ok {
		return x.bySuffix(base + "Request")
	}
	return nil
}

func (x *protoIndex) bySuffix(name string) protoreflect.MessageDescriptor {
	var found protoreflect.MessageDescriptor
	for _, md := range x.messages {
		full := string(md.FullName())
		if full == name || strings.HasSuffix(full, "."+name) {
			if found != nil {
				return nil // ambiguous
			}
			found = md
		}
	}
	return found
}

// fieldByPath follows a path of field names (proto names, or JSON names when
// json is set) from md.
func fieldByPath(md protoreflect.MessageDescriptor, path []string, json bool) protoreflect.FieldDescriptor {
	var fd protoreflect.FieldDescriptor
	for i, name := range path {
		if md == nil {
			return nil
		}
		if json {
			fd = md.Fields().ByJSONName(name)
		} else {
			fd = md.Fields().ByName(protoreflect.Name(name))
		}
		if fd == nil {
			return nil
		}
		if i < len(path)-1 {
			md = fd.Message()
		}
	}
	return fd
}

// stringPattern is the protovalidate pattern of a string field, if any.
func stringPattern(fd protoreflect.FieldDescriptor) string {
	if fd.Kind() != protoreflect.StringKind {
		return ""
	}
	rules, ok := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
	if !ok || rules == nil {
		return ""
	}
	return rules.GetString().GetPattern()
}

type dateKindT int

const (
	notDate dateKindT = iota
	// requiredDate: protovalidate requires a YYYY-MM-DD value.
	requiredDate
	// optionalDate: a YYYY-MM-DD value or "" when unset.
	optionalDate
)

// dateKind tells whether a string field holds a calendar date. The protos
// write dates as YYYY-MM-DD strings: those whose protovalidate pattern is a
// date, and those named like one (`*_date`, `date`, `date_of_birth`,
// `valid_from`, `valid_to`).
func dateKind(fd protoreflect.FieldDescriptor) dateKindT {
	if fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.IsMap() {
		return notDate
	}
	switch stringPattern(fd) {
	case "^" + datePattern + "$":
		return requiredDate
	case "^(" + datePattern + ")?$":
		return optionalDate
	}
	n := string(fd.Name())
	if n == "date" || strings.HasSuffix(n, "_date") || strings.HasPrefix(n, "date_") || n == "valid_from" || n == "valid_to" {
		return optionalDate
	}
	return notDate
}

// isPublic tells whether anyone may call the method without a token.
func isPublic(md protoreflect.MethodDescriptor) bool {
	return access.IsPublic("/" + string(md.Parent().FullName()) + "/" + string(md.Name()))
}
