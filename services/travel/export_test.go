package travel

import "context"

// RecheckPending runs one round of the re-checker (tests drive it by hand).
func (s *Service) RecheckPending(ctx context.Context) int { return s.rechecks.Once(ctx) }

// RetainOnce runs the retention job once (tests drive it by hand); -1 when
// another replica holds it or it ran within its period.
func (s *Service) RetainOnce(ctx context.Context) (int, error) { return s.retention.Once(ctx) }
