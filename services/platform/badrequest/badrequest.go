// Package badrequest builds gRPC InvalidArgument errors that name the fields
// at fault, as google.rpc.BadRequest field violations (AIP-193). The REST edge
// turns them into HTTP 400 with the violations in the body, so a client can
// point at the field instead of parsing a sentence.
package badrequest

import (
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Violations collects field violations. The zero value is ready to use.
type Violations struct {
	list []*errdetails.BadRequest_FieldViolation
}

// Add records that field (a dotted path such as "activity.capacity") is wrong,
// with a description written for the person who sent the request.
func (v *Violations) Add(field, description string) {
	v.list = append(v.list, &errdetails.BadRequest_FieldViolation{Field: field, Description: description})
}

// Empty reports whether nothing was added.
func (v *Violations) Empty() bool { return len(v.list) == 0 }

// Err returns nil when there are no violations, and otherwise an
// InvalidArgument status whose message lists every violation and whose
// details carry them one by one.
func (v *Violations) Err() error {
	if v.Empty() {
		return nil
	}
	parts := make([]string, len(v.list))
	for i, fv := range v.list {
		parts[i] = fv.GetField() + ": " + fv.GetDescription()
	}
	st := status.New(codes.InvalidArgument, "invalid request: "+strings.Join(parts, "; "))
	withDetails, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: v.list})
	if err != nil {
		// Only fails if the detail cannot be marshalled, which a BadRequest
		// always can; the plain status still names the fields.
		return st.Err()
	}
	return withDetails.Err()
}

// Field is a shortcut for an error with a single violation.
func Field(field, description string) error {
	var v Violations
	v.Add(field, description)
	return v.Err()
}

// Fields returns the field paths named by err, if it is an InvalidArgument
// status carrying BadRequest details. Tests use it to check that an error
// points at the right field.
func Fields(err error) []string {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return nil
	}
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				fields = append(fields, fv.GetField())
			}
		}
	}
	return fields
}

// Prefix returns err with every field path prefixed by prefix and a dot, so a
// domain check written for an Activity can report "activity.capacity" when
// the activity sits in a request. Other errors are returned unchanged.
func Prefix(prefix string, err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return err
	}
	var v Violations
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				v.Add(prefix+"."+fv.GetField(), fv.GetDescription())
			}
		}
	}
	if v.Empty() {
		return err
	}
	return v.Err()
}
