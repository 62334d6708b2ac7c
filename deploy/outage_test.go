package deploy

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// outageDuration is how long TestNATSOutage keeps NATS down: 5 s in `make
// test`, TIA_TEST_NATS_OUTAGE (e.g. 30s, `make outage-test`) otherwise.
func outageDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("TIA_TEST_NATS_OUTAGE")
	if v == "" {
		return 5 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("TIA_TEST_NATS_OUTAGE: not a duration such as 30s: %q", v)
	}
	return d
}

// TestNATSOutage runs the production path (separate binaries, PostgreSQL)
// against a NATS server of its own, stops NATS for a while and restarts the
// notification service during the outage: every service stays ready, every
// write is answered, the restarted service starts without NATS, and once
// NATS is back every event of the outage reaches its consumer exactly once.
func TestNATSOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the production path")
	}
	outage := outageDuration(t)
	natsDir := filepath.Join(t.TempDir(), "nats")
	natsAddr := testkit.FreeAddr(t)
	host, portText, _ := net.SplitHostPort(natsAddr)
	port, _ := strconv.Atoi(portText)
	startNATS := func() func() {
		ns, nc, err := events.StartEmbedded(natsDir, events.EmbeddedListen(host, port))
		if err != nil {
			t.Fatal(err)
		}
		nc.Close()
		return ns.Shutdown
	}
	stopNATS := startNATS()
	defer func() { stopNATS() }()

	bin := build(t, sourceRoot(t), append(append([]string(nil), services...), gateway)...)
	pub, issuer := tokens(t)
	type instance struct {
		grpc, health string
		env          map[string]string
		proc         *proc
	}
	instances := map[string]*instance{}
	dsns := map[string]string{}
	for _, s := range services {
		instances[s] = &instance{grpc: testkit.FreeAddr(t), health: testkit.FreeAddr(t)}
		dsns[s] = dbtest.NewPostgres(t)
	}
	for _, s := range services {
		in := instances[s]
		in.env = map[string]string{
			"TIA_GRPC_ADDR": in.grpc, "TIA_HEALTH_ADDR": in.health, "TIA_DATABASE_DSN": dsns[s],
			"TIA_NATS_URL": "nats://" + natsAddr, "TIA_TOKEN_KEY": pub, "TIA_LOG_LEVEL": "warn", "TIA_DRAIN_TIMEOUT": "5s",
		}
		for _, peer := range services {
			if peer != s {
				in.env["TIA_"+strings.ToUpper(peer)+"_ADDR"] = instances[peer].grpc
			}
		}
		in.proc = startProc(t, s, filepath.Join(bin, s), in.env)
		waitFor(t, s+" ready", 60*time.Second, func() error { return grpcServing(in.health) }, in.proc)
	}
	addrs := map[string]string{}
	for _, s := range services {
		addrs[s] = instances[s].grpc
	}
	gw, org := startGateway(t, gateway, bin, addrs)
	token, err := issuer.Issue(organiser, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	org.token = token
	registerOrganiser(t, org)

	writes, failed := 0, 0
	write := func() {
		writes++
		if _, _, err := org.do("POST", "/v1/organisers/"+organiser.Org+"/activities", activityBody("0184")); err != nil {
			failed++
			t.Errorf("write %d: %v", writes, err)
		}
	}
	for range 3 {
		write()
	}

	// The outage: writes go on; halfway through, notification (the
	// consumer) is restarted and must start without NATS.
	stopNATS()
	stopNATS = func() {}
	began := time.Now()
	restarted := false
	for time.Since(began) < outage {
		write()
		if !restarted && time.Since(began) > outage/2 {
			n := instances["notification"]
			n.proc.stop()
			n.proc = startProc(t, "notification", filepath.Join(bin, "notification"), n.env)
			waitFor(t, "notification restarted without NATS", 30*time.Second, func() error { return grpcServing(n.health) }, n.proc)
			restarted = true
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, s := range services {
		if err := grpcServing(instances[s].health); err != nil {
			t.Errorf("%s not ready after %s without NATS: %v", s, outage, err)
		}
	}
	if err := httpOK(org.client, org.base+"/readyz")(); err != nil {
		t.Errorf("gateway not ready without NATS: %v", err)
	}
	t.Logf("NATS down for %s: %d writes, %d failed; notification restarted during the outage", time.Since(began).Round(time.Millisecond), writes, failed)
	stopNATS = startNATS()

	// Every activity written is one event, relayed once NATS is back and
	// applied by notification exactly once.
	ctx := context.Background()
	activityDB, err := db.Open(ctx, dsns["activity"])
	if err != nil {
		t.Fatal(err)
	}
	defer activityDB.Close()
	notificationDB, err := db.Open(ctx, dsns["notification"])
	if err != nil {
		t.Fatal(err)
	}
	defer notificationDB.Close()
	var ids []string
	waitFor(t, "every event delivered once", 60*time.Second, func() error {
		ids = nil
		if err := sqlx.SelectContext(ctx, activityDB, &ids, `SELECT id FROM outbox WHERE subject LIKE '%.ActivityRegistered' AND published_at IS NOT NULL`); err != nil {
			return err
		}
		if len(ids) != writes-failed {
			return fmt.Errorf("%d of %d ActivityRegistered events relayed", len(ids), writes-failed)
		}
		var processed []string
		if err := sqlx.SelectContext(ctx, notificationDB, &processed, `SELECT event_id FROM processed_events WHERE consumer = 'notification-from-activity'`); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, id := range processed {
			seen[id] = true
		}
		applied := 0
		for _, id := range ids {
			if seen[id] {
				applied++
			}
		}
		if applied != len(ids) {
			return fmt.Errorf("notification applied %d of %d", applied, len(ids))
		}
		return nil
	}, gw, instances["activity"].proc, instances["notification"].proc)
	// processed_events' key (consumer, event_id) makes a second application
	// impossible; each write made exactly one event.
	var events int
	if err := activityDB.GetContext(ctx, &events, `SELECT COUNT(*) FROM outbox WHERE subject LIKE '%.ActivityRegistered'`); err != nil {
		t.Fatal(err)
	}
	if events != writes-failed {
		t.Errorf("%d events for %d writes", events, writes-failed)
	}
}
