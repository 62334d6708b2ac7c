package dispatch

import (
	"testing"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/platform/listing"
)

func mustPage(t *testing.T) listing.Page {
	p, err := listing.ParsePage(&notificationv1.ListDeadLettersRequest{Parent: "recipients/x"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
