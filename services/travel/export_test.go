package travel

import "context"

// RecheckPending runs one round of the re-checker (tests drive it by hand).
func (s *Service) RecheckPending(ctx context.Context) int { return s.rechecks.Once(ctx) }

// RetainOnce runs the retention job once (tests drive it by hand); -1 when
// another replica holds it or it ran within its period.
func (s *Service) RetainOnce(ctx context.Context) (int, error) { return s.retention.Once(ctx) }

// SetChunkSize makes streamed payment files come in pieces of n bytes until
// the returned function restores the size.
func SetChunkSize(n int) (restore func()) {
	old := chunkSize
	chunkSize = n
	return func() { chunkSize = old }
}
