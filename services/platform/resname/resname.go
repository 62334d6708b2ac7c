// Package resname parses AIP-122 resource names against their patterns,
// once for every service: "organisers/{organiser}/activities/{activity}"
// matched against "organisers/8020001234/activities/a1" gives the organiser
// and the activity, and anything else is a field violation naming the field
// the client wrote it in.
package resname

import (
	"strings"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

// Pattern is a resource-name pattern: literal collection segments and
// {variable} segments, e.g. "lan/{lan}/agreements/{agreement}".
type Pattern struct {
	raw      string
	segments []string
}

// New compiles a pattern; it panics on a malformed one (patterns are
// constants of the code).
func New(pattern string) Pattern {
	segs := strings.Split(pattern, "/")
	for _, s := range segs {
		if s == "" {
			panic("resname: empty segment in " + pattern)
		}
	}
	return Pattern{raw: pattern, segments: segs}
}

// String is the pattern as written.
func (p Pattern) String() string { return p.raw }

// Match returns the values of the pattern's variables in order, or false.
// A variable matches one non-empty segment without "/"; "-" (AIP-159's
// "any parent") matches as a value like any other.
func (p Pattern) Match(name string) ([]string, bool) {
	segs := strings.Split(name, "/")
	if len(segs) != len(p.segments) {
		return nil, false
	}
	var vars []string
	for i, s := range p.segments {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if segs[i] == "" {
				return nil, false
			}
			vars = append(vars, segs[i])
			continue
		}
		if segs[i] != s {
			return nil, false
		}
	}
	return vars, true
}

// Parse is Match with a field violation on field (the request field the
// name came in, as the client wrote it: "name", "parent") when name does not
// match.
func (p Pattern) Parse(field, name string) ([]string, error) {
	vars, ok := p.Match(name)
	if !ok {
		return nil, badrequest.Field(field, "must be a resource name of the form "+p.raw)
	}
	return vars, nil
}

// Format builds a name from the pattern and values, in order.
func (p Pattern) Format(values ...string) string {
	out := make([]string, len(p.segments))
	j := 0
	for i, s := range p.segments {
		if strings.HasPrefix(s, "{") && j < len(values) {
			out[i] = values[j]
			j++
			continue
		}
		out[i] = s
	}
	return strings.Join(out, "/")
}
