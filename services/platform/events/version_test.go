package events

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestVersionBelow(t *testing.T) {
	checkPairs(t, "versionBelow", versionBelow, []pairTest{ // v, than
		{"2.9.10", "2.10.0", true},
		{"2.10.0", "2.10.0", false},
		{"2.10.22", "2.10.0", false},
		{"v2.11.0-beta.1", "2.10.0", false},
		{"2.8.4", "2.9.0", true},
		{"3.0.0", "2.10.0", false},
	})
}

// TestServerVersionWarnsOnce: against a server older than
// MinFullServerVersion the fallbacks are logged once per process, at WARN,
// with their cost; against a newer one nothing is logged.
func TestServerVersionWarnsOnce(t *testing.T) {
	nc, err := nats.Connect(natsTestURL)
	if err != nil {
		t.Fatalf("NATS at %s: %v", natsTestURL, err)
	}
	defer nc.Close()
	warned.Delete("old-server")
	warned.Delete("unsupported")
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	for range 3 {
		CheckServerVersion(log, nc)
	}
	out := buf.String()
	if versionBelow(nc.ConnectedServerVersion(), MinFullServerVersion) {
		if n := strings.Count(out, "level=WARN"); n != 1 || !strings.Contains(out, "cost=") || !strings.Contains(out, ackWait.String()) {
			t.Errorf("server %s: want one WARN with the cost, got:\n%s", nc.ConnectedServerVersion(), out)
		}
	} else if out != "" {
		t.Errorf("server %s needs no fallback, but:\n%s", nc.ConnectedServerVersion(), out)
	}
}

const natsTestURL = "nats://127.0.0.1:4222"
