package events

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// SubjectOf is the NATS subject of an event message, derived from its proto
// full name in one place: tia.<service>.v1.<Event> is published on
// tia.<service>.<Event>. Producers publish on it and consumers subscribe to
// it, so nobody types a subject by hand.
func SubjectOf(msg proto.Message) string {
	return subjectOf(msg.ProtoReflect().Descriptor().FullName())
}

func subjectOf(name protoreflect.FullName) string {
	parts := strings.Split(string(name), ".")
	// Drop the version segment (v1, v2…) of the package.
	out := parts[:0]
	for i, p := range parts {
		if i == len(parts)-1 || !isVersion(p) {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// TypeOf is the proto full name of an event message, as carried in the
// event's type header and Event.Type.
func TypeOf(msg proto.Message) string { return string(msg.ProtoReflect().Descriptor().FullName()) }
