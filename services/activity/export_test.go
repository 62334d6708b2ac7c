package activity

import "time"

// SetClock makes the service see now as the current time (tests only).
func SetClock(s *Service, now func() time.Time) { s.now = now }
