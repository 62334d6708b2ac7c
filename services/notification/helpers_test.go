package notification

import (
	"time"

	"github.com/tia-platform/tia/services/notification/internal/dispatch"
)

var dispatchFast = dispatch.Config{BackoffBase: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond}
