package deploy

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// organiser is the principal the REST calls of these tests act as.
var organiser = auth.Principal{Subject: "deploy-test", Role: auth.RoleOrganiser, Org: "8020038884"}

// tokens makes a signing key for a test: the services verify with the
// returned public key file.
func tokens(t *testing.T) (pubKey string, issuer *auth.Issuer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dev.pem")
	key, err := auth.DevKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return path + ".pub", auth.NewIssuer(key, "")
}

// rest calls the gateway and decodes the JSON answer.
type rest struct {
	client *http.Client
	base   string
	token  string
}

func (r rest) do(method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, nil, fmt.Errorf("decode %s: %w", data, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, m, fmt.Errorf("%s %s: HTTP %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return resp.StatusCode, m, nil
}

// registerOrganiser registers the test's organiser, as the activity
// registry requires before its activities.
func registerOrganiser(t *testing.T, r rest) {
	t.Helper()
	if _, _, err := r.do("POST", "/v1/organisers", map[string]any{
		"orgNumber": organiser.Org, "displayName": "Deploy test", "kind": "ORGANISER_KIND_STUDY_ASSOCIATION",
	}); err != nil {
		t.Fatal(err)
	}
}

func activityBody(kommun string) map[string]any {
	return map[string]any{
		"title": "Svenska för nybörjare", "kommunCode": kommun, "focus": []string{"FOCUS_SWEDISH"},
		"capacity": 20, "startDate": "2026-01-10", "endDate": "2026-06-30",
	}
}

// TestTransportSecurity runs the activity service with mutual TLS and the
// gateway with TLS on the REST edge and a client certificate towards the
// service, with certificates made up by the test: the REST API works end to
// end; the service refuses clients without a certificate of the internal CA.
func TestTransportSecurity(t *testing.T) {
	bin := build(t, sourceRoot(t), "activity", gateway)
	internal := newCA(t, "tia-internal")
	intruderCA := newCA(t, "intruder")
	edgeCA := newCA(t, "public")
	actCert, actKey := internal.issue(t, "activity")
	gwCert, gwKey := internal.issue(t, "gateway")
	edgeCert, edgeKey := edgeCA.issue(t, "tia.example")
	badCert, badKey := intruderCA.issue(t, "intruder")
	pub, issuer := tokens(t)
	natsURL, prefix := natsPrefix(t)

	grpcAddr, healthAddr, metricsAddr := testkit.FreeAddr(t), testkit.FreeAddr(t), testkit.FreeAddr(t)
	act := startProc(t, "activity", filepath.Join(bin, "activity"), map[string]string{
		"TIA_GRPC_ADDR": grpcAddr, "TIA_HEALTH_ADDR": healthAddr, "TIA_METRICS_ADDR": metricsAddr,
		"TIA_DATABASE_DSN": dbtest.NewPostgres(t), "TIA_NATS_URL": natsURL, "TIA_NATS_PREFIX": prefix,
		"TIA_TOKEN_KEY": pub, "TIA_LOG_LEVEL": "warn", "TIA_DRAIN_TIMEOUT": "2s",
		"TIA_TLS_CERT": actCert, "TIA_TLS_KEY": actKey, "TIA_TLS_CA": internal.file(),
	})
	waitFor(t, "activity serving", 60*time.Second, func() error { return grpcServing(healthAddr) }, act)

	// The gateway: HTTPS with the public certificate; its calls to the
	// service present the internal client certificate. Every backend
	// address points at the one service: readiness asks each for health.
	httpAddr, gwMetrics := testkit.FreeAddr(t), testkit.FreeAddr(t)
	gwEnv := map[string]string{
		"TIA_HTTP_ADDR": httpAddr, "TIA_METRICS_ADDR": gwMetrics, "TIA_DRAIN_TIMEOUT": "2s",
		"TIA_TLS_CERT": edgeCert, "TIA_TLS_KEY": edgeKey,
		"TIA_TLS_CA": internal.file(), "TIA_TLS_CLIENT_CERT": gwCert, "TIA_TLS_CLIENT_KEY": gwKey,
	}
	for _, s := range services {
		gwEnv["TIA_"+strings.ToUpper(s)+"_ADDR"] = grpcAddr
	}
	gw := startProc(t, gateway, filepath.Join(bin, gateway), gwEnv)
	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: edgeCA.pool()}}}
	base := "https://" + httpAddr
	waitFor(t, "gateway ready over HTTPS", 60*time.Second, httpOK(https, base+"/readyz"), gw, act)

	t.Run("REST over TLS, gateway to service over mutual TLS", func(t *testing.T) {
		token, err := issuer.Issue(organiser, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		org := rest{client: https, base: base, token: token}
		registerOrganiser(t, org)
		_, created, err := org.do("POST", "/v1/organisers/"+organiser.Org+"/activities", activityBody("0184"))
		if err != nil {
			t.Fatal(err)
		}
		name, _ := created["name"].(string)
		if _, got, err := (rest{client: https, base: base}).do("GET", "/v1/"+name, nil); err != nil || got["name"] != name {
			t.Fatalf("GET %s: %v %v", name, got, err)
		}
	})

	t.Run("the edge speaks only TLS", func(t *testing.T) {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("plain HTTP answered 200")
			}
		}
		// A client that does not trust the edge's CA gets no answer.
		if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/healthz"); err == nil {
			t.Fatal("a certificate of an unknown CA was accepted by the client: the edge does not serve the configured one")
		}
	})

	call := func(creds grpc.DialOption) error {
		cc, err := grpc.NewClient(grpcAddr, creds)
		if err != nil {
			return err
		}
		defer cc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			return err
		}
		_, err = activityv1.NewActivityServiceClient(cc).ListActivities(ctx, &activityv1.ListActivitiesRequest{Parent: "organisers/-"})
		return err
	}
	withTLS := func(certs ...tls.Certificate) grpc.DialOption {
		return grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: internal.pool(), Certificates: certs}))
	}
	t.Run("the service requires a client certificate of the internal CA", func(t *testing.T) {
		if err := call(withTLS(keyPair(t, gwCert, gwKey))); err != nil {
			t.Fatalf("with the gateway's certificate: %v", err)
		}
		if err := call(withTLS()); err == nil {
			t.Error("a client without a certificate was served")
		}
		if err := call(withTLS(keyPair(t, badCert, badKey))); err == nil {
			t.Error("a client with a certificate of another CA was served")
		}
		if err := call(grpc.WithTransportCredentials(insecure.NewCredentials())); err == nil {
			t.Error("a plaintext client was served")
		}
		// The plaintext health port answers health only.
		if err := grpcServing(healthAddr); err != nil {
			t.Errorf("health port: %v", err)
		}
	})

	t.Run("a gateway without a client certificate is refused", func(t *testing.T) {
		env := map[string]string{"TIA_HTTP_ADDR": testkit.FreeAddr(t), "TIA_TLS_CA": internal.file()}
		for _, s := range services {
			env["TIA_"+strings.ToUpper(s)+"_ADDR"] = grpcAddr
		}
		p := startProc(t, "gateway-without-cert", filepath.Join(bin, gateway), env)
		plain := &http.Client{Timeout: 5 * time.Second}
		waitFor(t, "second gateway listening", 30*time.Second, func() error {
			resp, err := plain.Get("http://" + env["TIA_HTTP_ADDR"] + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			return err
		}, p)
		for range 3 {
			if err := httpOK(plain, "http://"+env["TIA_HTTP_ADDR"]+"/readyz")(); err == nil {
				t.Fatal("ready although the service refuses its connections")
			}
			time.Sleep(300 * time.Millisecond)
		}
		if code, _, _ := (rest{client: plain, base: "http://" + env["TIA_HTTP_ADDR"]}).do("GET", "/v1/organisers/-/activities", nil); code != http.StatusServiceUnavailable {
			t.Errorf("GET through it: HTTP %d, want 503", code)
		}
	})

	t.Run("Prometheus metrics on every binary", func(t *testing.T) {
		for name, addr := range map[string]string{"activity": metricsAddr, gateway: gwMetrics} {
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "go_goroutines") {
				t.Errorf("%s /metrics: HTTP %d without Go runtime metrics", name, resp.StatusCode)
			}
			if name == "activity" && !strings.Contains(string(body), "rpc_server") {
				t.Errorf("activity /metrics has no gRPC server metrics")
			}
		}
	})
}
