package events

import (
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// Server versions. TIA runs on nats-server MinServerVersion and later; from
// MinFullServerVersion on it needs none of the fallbacks below.
const (
	// MinServerVersion is the oldest nats-server TIA supports (JetStream
	// with stream de-duplication, limits and durable pull consumers).
	MinServerVersion = "2.9.0"
	// MinFullServerVersion is the oldest nats-server on which TIA needs no
	// fallback: redelivery back-off with unlimited deliveries and consumers
	// filtered on several subjects.
	MinFullServerVersion = "2.10.0"
)

// warned remembers which fallbacks were logged, so each is logged once per
// process however many consumers and reconnects meet it.
var warned sync.Map

// warnFallback logs a fallback for an older server once per process, at
// WARN, with what it costs.
func warnFallback(log *slog.Logger, key, msg string, args ...any) {
	if _, loaded := warned.LoadOrStore(key, true); loaded {
		return
	}
	log.Warn(msg, args...)
}

// CheckServerVersion logs, once per process and at WARN, what the connected
// server's version costs: below MinServerVersion TIA is unsupported; below
// MinFullServerVersion consumers fall back to a constant redelivery wait and
// multi-subject consumers read (and skip) their producer's whole stream. It
// does nothing while nc is not connected.
func CheckServerVersion(log *slog.Logger, nc *nats.Conn) {
	v := nc.ConnectedServerVersion()
	if v == "" {
		return
	}
	switch {
	case versionBelow(v, MinServerVersion):
		warnFallback(log, "unsupported", "nats-server is older than TIA supports; upgrade it",
			"server_version", v, "min_version", MinServerVersion)
	case versionBelow(v, MinFullServerVersion):
		warnFallback(log, "old-server", "nats-server is older than "+MinFullServerVersion+"; TIA uses fallbacks",
			"server_version", v,
			"cost", "redeliveries after a crash wait a constant "+ackWait.String()+" (no back-off); "+
				"consumers of several subjects receive and skip every event of the producer's stream")
	}
}

// versionBelow compares dotted versions ("2.9.10" < "2.10.0"); a suffix
// such as "-beta" is ignored.
func versionBelow(v, than string) bool {
	a, b := versionParts(v), versionParts(than)
	for i := range 3 {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func versionParts(v string) [3]int {
	var out [3]int
	v, _, _ = strings.Cut(strings.TrimPrefix(v, "v"), "-")
	for i, p := range strings.SplitN(v, ".", 3) {
		out[i], _ = strconv.Atoi(p)
	}
	return out
}
