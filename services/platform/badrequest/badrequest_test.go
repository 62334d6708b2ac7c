package badrequest

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestViolations(t *testing.T) {
	tests := []struct {
		name   string
		add    [][2]string
		code   codes.Code
		fields []string
	}{
		{name: "none", code: codes.OK},
		{name: "one", add: [][2]string{{"capacity", "must be > 0"}}, code: codes.InvalidArgument, fields: []string{"capacity"}},
		{name: "two", add: [][2]string{{"a", "x"}, {"b.c", "y"}}, code: codes.InvalidArgument, fields: []string{"a", "b.c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Violations
			for _, a := range tt.add {
				v.Add(a[0], a[1])
			}
			err := v.Err()
			if got := status.Code(err); got != tt.code {
				t.Fatalf("code = %v, want %v", got, tt.code)
			}
			if got := Fields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestPrefix(t *testing.T) {
	err := Prefix("activity", Field("capacity", "must be > 0"))
	if got := Fields(err); !slices.Equal(got, []string{"activity.capacity"}) {
		t.Fatalf("fields = %v", got)
	}
	other := status.Error(codes.NotFound, "x")
	if Prefix("activity", other) != other {
		t.Fatal("non-InvalidArgument error changed")
	}
}
