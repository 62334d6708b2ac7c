package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// duplicateWindow is how long JetStream remembers message ids. A relay
// that crashed after publishing but before marking its rows re-publishes
// them on restart; within this window those copies are dropped by the
// stream, and after it consumers still skip them via processed_events.
const duplicateWindow = 10 * time.Minute

// Stream describes one producer's JetStream stream.
type Stream struct {
	// Name is the stream name, e.g. "TIA_ACTIVITY".
	Name string
	// Subjects are the subjects the stream captures, e.g. "tia.activity.>".
	Subjects []string
	// Replicas is how many servers of a NATS cluster hold the stream; 0
	// means the server default (1).
	Replicas int
	// MaxAge and MaxBytes bound what the stream keeps (0: no bound). The
	// oldest events are discarded first, so a consumer that stays away
	// longer than MaxAge (or while more than MaxBytes accumulate) misses
	// events: keep both above the consumers' longest expected outage.
	MaxAge   time.Duration
	MaxBytes int64
}

// StreamFor returns the conventional stream of a producer:
// StreamFor("activity") is {Name: "TIA_ACTIVITY", Subjects: ["tia.activity.>"]}.
// Keeping the naming in one place lets producers and consumers agree on it
// without sharing configuration.
func StreamFor(producer string) Stream {
	return Stream{
		Name:     "TIA_" + strings.ToUpper(producer),
		Subjects: []string{"tia." + producer + ".>"},
	}
}

// WithPrefix returns s moved under prefix: the stream name starts with the
// prefix in upper case (characters NATS does not allow in names become "_")
// and every subject with the prefix as is. One NATS cluster can so carry
// several deployments, or several test runs, without their events mixing.
func (s Stream) WithPrefix(prefix string) Stream {
	if prefix == "" {
		return s
	}
	out := Stream{Name: streamPrefix(prefix) + s.Name, Replicas: s.Replicas, MaxAge: s.MaxAge, MaxBytes: s.MaxBytes}
	for _, subj := range s.Subjects {
		out.Subjects = append(out.Subjects, prefix+subj)
	}
	return out
}

// streamPrefix is how prefix begins the names of the streams under it: in
// upper case, with the characters NATS does not allow in names as "_".
func streamPrefix(prefix string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r == ' ' || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, strings.ToUpper(prefix))
}

// DeleteStreams deletes every stream moved under prefix (WithPrefix), with
// their events: what a test run, a benchmark or a throw-away cluster leaves
// on a shared NATS. It never touches the streams of a deployment without a
// prefix: an empty prefix deletes nothing.
func DeleteStreams(ctx context.Context, nc *nats.Conn, prefix string) error {
	want := streamPrefix(prefix)
	if want == "" {
		return nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	var names []string
	lister := js.StreamNames(ctx)
	for name := range lister.Name() {
		if strings.HasPrefix(name, want) {
			names = append(names, name)
		}
	}
	errs := []error{lister.Err()}
	for _, name := range names {
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, fmt.Errorf("delete stream %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// WithReplicas returns s kept on n servers of a NATS cluster.
func (s Stream) WithReplicas(n int) Stream {
	s.Replicas = n
	return s
}

// WithLimits returns s bounded to events younger than maxAge and to
// maxBytes of storage (0: no bound).
func (s Stream) WithLimits(maxAge time.Duration, maxBytes int64) Stream {
	s.MaxAge, s.MaxBytes = maxAge, maxBytes
	return s
}

// config is the JetStream configuration of s: file storage and limits
// retention, so every consumer sees every event independently of the
// others, and a duplicate window for relay re-publishes.
func (s Stream) config() jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Name:       s.Name,
		Subjects:   s.Subjects,
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Duplicates: duplicateWindow,
		Replicas:   s.Replicas,
		MaxAge:     s.MaxAge,
		MaxBytes:   s.MaxBytes,
		Discard:    jetstream.DiscardOld,
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = -1 // JetStream's "unlimited"
	}
	return cfg
}

// EnsureStream creates s or updates its configuration. It is idempotent, and
// both producers and consumers call it at start-up so that start order does
// not matter.
func EnsureStream(ctx context.Context, js jetstream.JetStream, s Stream) error {
	cfg := s.config()
	_, err := js.CreateOrUpdateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		// Another process created the stream between our update attempt
		// and our create attempt; now the update succeeds.
		_, err = js.UpdateStream(ctx, cfg)
	}
	if err != nil {
		return fmt.Errorf("ensure stream %s: %w", s.Name, err)
	}
	return nil
}
