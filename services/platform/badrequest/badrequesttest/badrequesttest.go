// Package badrequesttest checks a domain's request rules table by table, the
// way the services' domain tests do: each case changes a valid value and
// names the fields the rules should then refuse, so a reader sees rule and
// field side by side.
package badrequesttest

import (
	"slices"
	"testing"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

// Case is one change to a valid value and the fields the rules then refuse,
// in order (none: the changed value passes).
type Case[T any] struct {
	Name   string
	Change func(*T)
	Fields []string
}

// Run runs each case as a subtest: it changes a value made by valid, checks
// it, and fails unless check refuses exactly the case's fields. then, when
// not nil, asserts more about the checked value and check's error.
func Run[T any](t *testing.T, valid func() T, check func(*T) error, cases []Case[T], then func(t *testing.T, v T, err error)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			v := valid()
			c.Change(&v)
			err := check(&v)
			if got := badrequest.Fields(err); !slices.Equal(got, c.Fields) {
				t.Fatalf("fields = %v, want %v (err %v)", got, c.Fields, err)
			}
			if then != nil {
				then(t, v, err)
			}
		})
	}
}
