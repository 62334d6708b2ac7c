package deploy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// The fields the new build adds: one on a request (new clients send it),
// one on the resource (new clients write it; old servers ignore it).
const (
	newRequestField  = "upgrade_probe"
	newResourceField = "upgrade_note"
)

// addFields adds the new fields to the activity API in the tree at dir and
// regenerates its code with the pinned buf and plugins, as `make proto` does.
func addFields(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, "proto", "tia", "activity", "v1", "activity.proto")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for msg, field := range map[string]string{"ListActivitiesRequest": newRequestField, "Activity": newResourceField} {
		decl := "\nmessage " + msg + " {\n"
		if !strings.Contains(text, decl) {
			t.Fatalf("activity.proto has no message %s", msg)
		}
		// A high number no existing field uses.
		text = strings.Replace(text, decl, decl+"  // Added by the upgrade test.\n  string "+field+" = 9000;\n", 1)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "proto", "gen")); err != nil {
		t.Fatal(err)
	}
	// buf generate rewrites the Go code; the OpenAPI document (which
	// `make proto` converts from buf's Swagger output) stays as it is,
	// since the edge embeds it and the added fields change no route.
	run(t, dir, filepath.Join(".cache", "bin", "buf"), "generate")
}

// bufImage builds the protos of the tree at dir into a descriptor set.
func bufImage(t *testing.T, dir, out string) *descriptorpb.FileDescriptorSet {
	t.Helper()
	run(t, dir, filepath.Join(dir, ".cache", "bin", "buf"), "build", "proto", "-o", out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// A buf image is wire-compatible with a FileDescriptorSet.
	var set descriptorpb.FileDescriptorSet
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	return &set
}

// newClient calls the activity service with the new build's API, through
// dynamic messages made from its descriptors: what a client regenerated from
// the new protos sends.
type newClient struct {
	types *dynamicpb.Types
	files *protoregistry.Files
}

func (c newClient) message(t *testing.T, name, json string) *dynamicpb.Message {
	t.Helper()
	mt, err := c.types.FindMessageByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessageType(mt.Descriptor()).New().Interface().(*dynamicpb.Message)
	if err := (protojson.UnmarshalOptions{Resolver: c.types}).Unmarshal([]byte(json), m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func (c newClient) empty(t *testing.T, name string) *dynamicpb.Message {
	return c.message(t, name, "{}")
}

// servesField asks a running instance, through server reflection, whether
// its API has field on message.
func servesField(addr, message, field string) (bool, error) {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return false, err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		return false, err
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: message},
	}); err != nil {
		return false, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return false, err
	}
	short := message[strings.LastIndex(message, ".")+1:]
	for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		var fd descriptorpb.FileDescriptorProto
		if err := proto.Unmarshal(raw, &fd); err != nil {
			return false, err
		}
		for _, m := range fd.GetMessageType() {
			if m.GetName() != short || !strings.HasPrefix(message, fd.GetPackage()+".") {
				continue
			}
			for _, f := range m.GetField() {
				if f.GetName() == field {
					return true, nil
				}
			}
			return false, nil
		}
	}
	return false, fmt.Errorf("reflection did not describe %s", message)
}

var activityCalls = regexp.MustCompile(`(?m)^rpc_server_\S*_count\{[^}]*ActivityService[^}]*\} (\S+)$`)

// servedCalls sums the activity calls an instance's /metrics counts.
func servedCalls(metricsAddr string) (float64, error) {
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var n float64
	for _, m := range activityCalls.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		n += v
	}
	return n, nil
}

// tally counts a kind of client's calls.
type tally struct {
	name   string
	ok     atomic.Int64
	failed atomic.Int64
	mu     sync.Mutex
	errs   []string
}

func (c *tally) record(err error) {
	if err == nil {
		c.ok.Add(1)
		return
	}
	c.failed.Add(1)
	c.mu.Lock()
	if len(c.errs) < 10 {
		c.errs = append(c.errs, time.Now().Format("15:04:05.000")+" "+err.Error())
	}
	c.mu.Unlock()
}

// TestUpgradeActivityWithAddedField shows an independent upgrade on the
// production path: two activity instances behind the gateway (client-side
// round robin over TIA_ACTIVITY_ADDR=a,b), each replaced in turn by a build
// whose API has added fields, while REST clients, a client of the current
// generated code and a client of the new API call without pause. No call
// may fail. buf breaking accepts the change.
func TestUpgradeActivityWithAddedField(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two versions of the platform")
	}
	started := time.Now()
	src := sourceRoot(t)
	oldBin := build(t, src, append(append([]string(nil), services...), gateway)...)
	newSrc := copyTree(t, src)
	addFields(t, newSrc)
	newBin := build(t, newSrc, "activity", gateway)
	t.Logf("built both versions in %s", time.Since(started).Round(time.Second))

	tmp := t.TempDir()
	bufImage(t, src, filepath.Join(tmp, "old.binpb"))
	// buf breaking, as CI runs it, accepts the new API against the old one.
	run(t, newSrc, filepath.Join(newSrc, ".cache", "bin", "buf"), "breaking", "proto", "--against", filepath.Join(tmp, "old.binpb"))
	files, err := protodesc.NewFiles(bufImage(t, newSrc, filepath.Join(tmp, "new.binpb")))
	if err != nil {
		t.Fatal(err)
	}
	nc := newClient{types: dynamicpb.NewTypes(files), files: files}

	// The production path on loopback: every service on its own database,
	// both activity instances on one.
	pub, issuer := tokens(t)
	natsURL, prefix := natsPrefix(t)
	type instance struct {
		grpc, health, metrics string
		env                   map[string]string
		proc                  *proc
	}
	dsns := map[string]string{}
	addrs := map[string]string{}
	instances := map[string]*instance{}
	names := []string{"activity-a", "activity-b", "statistics", "travel", "notification"}
	for _, n := range names {
		instances[n] = &instance{grpc: testkit.FreeAddr(t), health: testkit.FreeAddr(t), metrics: testkit.FreeAddr(t)}
	}
	for _, s := range services {
		dsns[s] = dbtest.NewPostgres(t)
		if s == "activity" {
			addrs[s] = instances["activity-a"].grpc + "," + instances["activity-b"].grpc
		} else {
			addrs[s] = instances[s].grpc
		}
	}
	for _, n := range names {
		in := instances[n]
		svc := strings.TrimSuffix(strings.TrimSuffix(n, "-a"), "-b")
		in.env = map[string]string{
			"TIA_GRPC_ADDR": in.grpc, "TIA_HEALTH_ADDR": in.health, "TIA_METRICS_ADDR": in.metrics,
			"TIA_DATABASE_DSN": dsns[svc], "TIA_NATS_URL": natsURL, "TIA_NATS_PREFIX": prefix,
			"TIA_TOKEN_KEY": pub, "TIA_LOG_LEVEL": "warn", "TIA_DRAIN_TIMEOUT": "10s",
		}
		for _, peer := range services {
			if peer != svc {
				in.env["TIA_"+strings.ToUpper(peer)+"_ADDR"] = addrs[peer]
			}
		}
		in.proc = startProc(t, n, filepath.Join(oldBin, svc), in.env)
		// One at a time: the first start of a database runs its migrations.
		waitFor(t, n+" serving", 60*time.Second, func() error { return grpcServing(in.health) }, in.proc)
	}
	_, anyone := startGateway(t, gateway, oldBin, addrs)

	token, err := issuer.Issue(organiser, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	org := anyone
	org.token = token
	registerOrganiser(t, org)
	_, first, err := org.do("POST", "/v1/organisers/"+organiser.Org+"/activities", activityBody("0180"))
	if err != nil {
		t.Fatal(err)
	}
	firstName, _ := first["name"].(string)

	// Direct gRPC clients balance over both instances like the gateway.
	cc, err := app.Dial(addrs["activity"])
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	oldGRPC := activityv1.NewActivityServiceClient(cc)
	authed := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	parent := "organisers/" + organiser.Org
	newCreate := func() proto.Message {
		return nc.message(t, "tia.activity.v1.CreateActivityRequest", `{"parent": "`+parent+`", "activity": {
			"title": "Svenska, ny klient", "kommunCode": "0180", "focus": ["FOCUS_SWEDISH"], "capacity": 10,
			"startDate": "2026-02-01", "endDate": "2026-05-31", "upgradeNote": "sent by a client of the new API"}}`)
	}
	newList := nc.message(t, "tia.activity.v1.ListActivitiesRequest", `{"parent": "organisers/-", "pageSize": 5, "upgradeProbe": "new"}`)

	restClients := &tally{name: "REST through the edge"}
	oldClients := &tally{name: "gRPC, current generated code"}
	newClients := &tally{name: "gRPC, new API"}
	load := testkit.NewLoad()
	// alternate runs a gRPC client that reads and writes in turn, each call
	// with a deadline of its own, and counts its answers in tl.
	alternate := func(tl *tally, read, write func(context.Context) error) {
		load.Go(func(i int) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			call := read
			if i%2 != 0 {
				call = write
			}
			tl.record(call(ctx))
		})
	}
	for w := range 3 {
		load.Go(func(i int) {
			var err error
			switch (i + w) % 3 {
			case 0:
				_, _, err = org.do("POST", "/v1/organisers/"+organiser.Org+"/activities", activityBody("0184"))
			case 1:
				_, _, err = anyone.do("GET", "/v1/organisers/-/activities?pageSize=5", nil)
			default:
				_, _, err = anyone.do("GET", "/v1/"+firstName, nil)
			}
			restClients.record(err)
		})
	}
	alternate(oldClients, func(ctx context.Context) error {
		_, err := oldGRPC.GetActivity(ctx, &activityv1.GetActivityRequest{Name: firstName})
		return err
	}, func(ctx context.Context) error {
		_, err := oldGRPC.CreateActivity(authed(ctx), &activityv1.CreateActivityRequest{Parent: parent, Activity: &activityv1.Activity{
			Title: "Svenska, gammal klient", KommunCode: "0180", Focus: []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH},
			Capacity: 10, StartDate: "2026-02-01", EndDate: "2026-05-31",
		}})
		return err
	})
	alternate(newClients, func(ctx context.Context) error {
		return cc.Invoke(ctx, "/tia.activity.v1.ActivityService/ListActivities", newList, nc.empty(t, "tia.activity.v1.ListActivitiesResponse"))
	}, func(ctx context.Context) error {
		return cc.Invoke(authed(ctx), "/tia.activity.v1.ActivityService/CreateActivity", newCreate(), nc.empty(t, "tia.activity.v1.Activity"))
	})
	stopLoad := load.Stop
	defer stopLoad()

	// Replace each instance in turn, as a rolling update does: stop it
	// (SIGTERM: it drains its calls), start the new build on its address,
	// and wait until it serves calls from the running clients before the
	// next one goes.
	time.Sleep(time.Second)
	for _, n := range []string{"activity-a", "activity-b"} {
		in := instances[n]
		if has, err := servesField(in.grpc, "tia.activity.v1.ListActivitiesRequest", newRequestField); err != nil || has {
			t.Fatalf("%s before the upgrade: has the new field %v (%v)", n, has, err)
		}
		in.proc.stop()
		in.proc = startProc(t, n+"-new", filepath.Join(newBin, "activity"), in.env)
		waitFor(t, n+" (new build) serving", 60*time.Second, func() error { return grpcServing(in.health) }, in.proc)
		if has, err := servesField(in.grpc, "tia.activity.v1.ListActivitiesRequest", newRequestField); err != nil || !has {
			t.Fatalf("%s after the upgrade: has the new field %v (%v)", n, has, err)
		}
		waitFor(t, n+" (new build) taking calls", 30*time.Second, func() error {
			served, err := servedCalls(in.metrics)
			if err != nil {
				return err
			}
			if served < 20 {
				return fmt.Errorf("%v calls so far", served)
			}
			return nil
		}, in.proc)
		t.Logf("%s replaced by the new build; calls so far: REST %d, old gRPC %d, new gRPC %d",
			n, restClients.ok.Load(), oldClients.ok.Load(), newClients.ok.Load())
		time.Sleep(time.Second)
	}
	stopLoad()

	for _, c := range []*tally{restClients, oldClients, newClients} {
		t.Logf("%s: %d calls succeeded, %d failed", c.name, c.ok.Load(), c.failed.Load())
		if c.failed.Load() > 0 {
			t.Errorf("%s: %d calls failed during the upgrade, e.g.\n%s", c.name, c.failed.Load(), strings.Join(c.errs, "\n"))
		}
		if c.ok.Load() < 20 {
			t.Errorf("%s: only %d calls: no load ran", c.name, c.ok.Load())
		}
	}

	// REST clients that send the new field need the edge rebuilt from the
	// new protos: start the new gateway next to the old one (blue/green)
	// and call both kinds of REST client through it.
	_, newREST := startGateway(t, "gateway-new", newBin, addrs)
	newREST.token = token
	body := activityBody("0180")
	body["upgradeNote"] = "sent as JSON by a new REST client"
	if _, _, err := newREST.do("POST", "/v1/organisers/"+organiser.Org+"/activities", body); err != nil {
		t.Errorf("new REST client, new gateway: %v", err)
	}
	if _, _, err := newREST.do("GET", "/v1/organisers/-/activities?pageSize=5&upgradeProbe=x", nil); err != nil {
		t.Errorf("new REST client, new gateway: %v", err)
	}
	if _, _, err := newREST.do("POST", "/v1/organisers/"+organiser.Org+"/activities", activityBody("0184")); err != nil {
		t.Errorf("old REST client, new gateway: %v", err)
	}
	t.Logf("whole test in %s", time.Since(started).Round(time.Second))
}
