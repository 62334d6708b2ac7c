package activity

import (
	"time"

	"github.com/tia-platform/tia/services/platform/clock"
)

// SetClock makes the service see now as the current time (tests only).
func SetClock(s *Service, now func() time.Time) { s.clock = clock.Clock(now) }
