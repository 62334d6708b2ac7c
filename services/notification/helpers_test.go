package notification

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tia-platform/tia/services/notification/internal/dispatch"
	"github.com/tia-platform/tia/services/platform/apierr"
)

var dispatchFast = dispatch.Config{BackoffBase: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond}

// code is the status code a client gets for err: the host passes every
// method's errors through the service's table (apierr).
func code(err error) codes.Code {
	return status.Code(apierr.Table{Domain: "notification.tia", Rules: errorTable}.Status(context.Background(), err))
}
