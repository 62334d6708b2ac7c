// Package e2e tests the production path: every service and the gateway as a
// separate process built from its cmd/, each service on its own PostgreSQL
// database, events through a real NATS JetStream server. It needs PostgreSQL
// on 127.0.0.1:5432 (or TIA_TEST_POSTGRES_DSN) and NATS on 127.0.0.1:4222 (or
// TIA_TEST_NATS_URL) and fails, rather than skips, when they are down.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/embedded"
	"github.com/tia-platform/tia/services/embedded/cluster"
	"github.com/tia-platform/tia/services/embedded/resttest"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// startCluster builds the binaries and starts them, each service on a new
// PostgreSQL database.
func startCluster(t *testing.T) *cluster.Cluster {
	t.Helper()
	return startClusterWith(t, "e2e", cluster.Options{
		PostgresDSN: func(string) (string, error) { return dbtest.NewPostgres(t), nil },
	})
}

// startClusterWith builds the binaries and starts the cluster with o, its
// BinDir, NATS URL, logs and NATS prefix (prefix and a random part) filled
// here; the processes' output is shown when the test fails.
func startClusterWith(t *testing.T, prefix string, o cluster.Options) *cluster.Cluster {
	t.Helper()
	ctx := context.Background()
	o.BinDir = t.TempDir()
	started := time.Now()
	if err := cluster.Build(ctx, o.BinDir); err != nil {
		t.Fatal(err)
	}
	t.Logf("built the binaries in %s", time.Since(started).Round(time.Millisecond))

	o.NATSURL = os.Getenv("TIA_TEST_NATS_URL")
	if o.NATSURL == "" {
		o.NATSURL = "nats://127.0.0.1:4222"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	o.Prefix = prefix + hex.EncodeToString(b[:]) + "_"
	logs := &testkit.LogBuffer{}
	o.Logs = logs
	started = time.Now()
	c, err := cluster.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the databases' cleanups, so it runs before them.
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("process output:\n%s", logs.String())
		}
	})
	t.Logf("started the cluster in %s (NATS prefix %s)", time.Since(started).Round(time.Millisecond), c.Prefix())
	return c
}

func TestProduction(t *testing.T) {
	c := startCluster(t)
	org := embedded.DemoStudyAssociation
	organiser := as(t, c, &org)
	anyone := as(t, c, nil)
	stockholm := as(t, c, &embedded.DemoCountyBoard)
	skane := as(t, c, &embedded.DemoOtherCountyBoard)
	activities := "/v1/organisers/" + org.Org + "/activities"

	// An organiser registers itself, then an activity in Solna; anyone finds
	// it, and the event crosses NATS to the notification service's own
	// database.
	if code, body := organiser.Do("POST", "/v1/organisers", organiserBody(org)); code != http.StatusOK {
		t.Fatalf("register organiser: HTTP %d %v", code, body)
	}
	first := resttest.VerticalSlice(organiser, anyone, stockholm, skane, org.Org)

	// Errors keep their meaning through the separate gateway.
	bad := activityBody("9999")
	if code, body := organiser.Do("POST", activities, bad); code != http.StatusBadRequest || !slices.Contains(violatedFields(body), "activity.kommunCode") {
		t.Fatalf("unknown kommun: HTTP %d %v, want 400 naming activity.kommun_code", code, body)
	}
	if code, body := anyone.Do("POST", activities, activityBody("0180")); code != http.StatusUnauthorized {
		t.Fatalf("no token: HTTP %d %v, want 401", code, body)
	}
	if code, body := anyone.Do("GET", activities+"/nope", nil); code != http.StatusNotFound {
		t.Fatalf("unknown activity: HTTP %d %v, want 404", code, body)
	}

	// The notification service crashes; the event of a new activity waits
	// in JetStream and arrives, once, when it is back.
	if err := c.Kill("notification"); err != nil {
		t.Fatal(err)
	}
	if code, body := stockholm.Do("GET", "/v1/recipients/lansstyrelse-01/messages", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("inbox while notification is down: HTTP %d %v, want 503", code, body)
	}
	// The edge stays ready while the other services serve (issue 13.1);
	// only notification's routes answer 503, and its own probe says so.
	if code, _ := anyone.Do("GET", "/readyz", nil); code != http.StatusOK {
		t.Fatalf("/readyz while only notification is down: HTTP %d, want 200", code)
	}
	if code, _ := anyone.Do("GET", "/readyz/notification", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz/notification while notification is down: HTTP %d, want 503", code)
	}
	code, created := organiser.Do("POST", activities, activityBody("0180"))
	if code != http.StatusOK {
		t.Fatalf("create while notification is down: HTTP %d %v", code, created)
	}
	second, _ := created["name"].(string)
	if err := c.Restart("notification"); err != nil {
		t.Fatal(err)
	}
	stockholm.Inbox("lansstyrelse-01", "activity.registered", 2)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, _ := anyone.Do("GET", "/readyz", nil)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after notification restarted: HTTP %d, want 200", code)
		}
	}
	// Give a redelivery time to show up as a duplicate.
	time.Sleep(time.Second)
	var got []string
	for _, m := range stockholm.Inbox("lansstyrelse-01", "activity.registered", 2) {
		got = append(got, m.(map[string]any)["subjectResource"].(string))
	}
	slices.Sort(got)
	want := []string{first, second}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("messages about activities after the restart: %q, want exactly one each for %q", got, want)
	}
	if msgs := skane.Inbox("lansstyrelse-12", "activity.registered", 0); len(msgs) != 0 {
		t.Fatalf("Skåne's inbox got %v", msgs)
	}

	// The edge's own endpoints.
	if code, _ := anyone.Do("GET", "/healthz", nil); code != http.StatusOK {
		t.Errorf("/healthz: HTTP %d", code)
	}
	code, doc := anyone.Do("GET", "/openapi.json", nil)
	paths, _ := doc["paths"].(map[string]any)
	if code != http.StatusOK || paths["/v1/organisers/{organiser}/activities"] == nil || paths["/v1/routes"] == nil {
		t.Fatalf("openapi: HTTP %d, paths %v", code, paths)
	}
}

// as is a client of the REST edge for pr (anonymous when nil).
func as(t *testing.T, c *cluster.Cluster, pr *auth.Principal) resttest.Client {
	t.Helper()
	return resttest.As(t, c.HTTPBase(), c.Token, pr)
}

func organiserBody(pr auth.Principal) map[string]any {
	return map[string]any{
		"orgNumber": pr.Org, "displayName": "Organiser " + pr.Org, "kind": "ORGANISER_KIND_STUDY_ASSOCIATION",
		"contacts": []map[string]any{
			{"role": "CONTACT_ROLE_REGIONAL", "displayName": "Regional kontakt", "email": "tia@example.se", "lanCodes": []string{"01"}},
		},
	}
}

func activityBody(kommun string) map[string]any { return resttest.ActivityBody(kommun) }

// violatedFields lists the fields named by a 400 body's BadRequest details.
func violatedFields(body map[string]any) []string { return resttest.ViolatedFields(body) }
