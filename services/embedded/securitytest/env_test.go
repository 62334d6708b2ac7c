// Package securitytest attacks the embedded platform as a hostile caller
// would (issue 11): an authorization matrix over every gRPC method and every
// kind of caller, and a corpus of malformed REST requests generated from the
// OpenAPI document. Both run in `make test` (the unit target runs
// ./services/embedded/...).
package securitytest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/tia-platform/tia/services/embedded"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// env is a running embedded platform with its log captured.
type env struct {
	p       *embedded.Platform
	log     *testkit.LogBuffer
	dataDir string
	// hookURL is the loopback webhook receiver.
	hookURL string
}

func startPlatform(t *testing.T) *env {
	t.Helper()
	logs := &testkit.LogBuffer{}
	dir := t.TempDir()
	// Webhooks registered by the tests point at this loopback receiver,
	// allowed by the explicit development allow-list, so no delivery ever
	// leaves the machine.
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(hooks.Close)
	t.Setenv("TIA_DEVELOPMENT", "true")
	t.Setenv("TIA_WEBHOOK_ALLOW_HOSTS", hooks.Listener.Addr().String())
	p, err := embedded.Start(context.Background(), embedded.Options{
		DataDir: dir, HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// The gateway's rate limit is off unless set (embedded.Options.Gateway):
		// the corpus is sent by a handful of callers and must not be throttled.
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &env{p: p, log: logs, dataDir: dir, hookURL: hooks.URL + "/hook"}
}

// The callers of the matrix. Scope "own" is always: län 01, organisation
// orgA, person dossierA; "other" is län 12, orgB, dossierB.
const (
	orgA     = "8020038884" // registered, agreement and activities in län 01
	orgB     = "8176055559" // registered, works only in län 12
	orgC     = "8020100007" // valid organisation number, never registered
	dossierA = "12-345678"
	dossierB = "23-456789"
)

var (
	principalMV     = auth.Principal{Subject: "sec-migrationsverket", Role: auth.RoleMigrationsverket}
	principalCB01   = auth.Principal{Subject: "sec-lansstyrelsen-01", Role: auth.RoleCountyBoard, Lan: "01"}
	principalCB12   = auth.Principal{Subject: "sec-lansstyrelsen-12", Role: auth.RoleCountyBoard, Lan: "12"}
	principalFBR    = auth.Principal{Subject: "sec-folkbildningsradet", Role: auth.RoleFolkbildningsradet}
	principalOrgA   = auth.Principal{Subject: "sec-org-a", Role: auth.RoleOrganiser, Org: orgA}
	principalOrgB   = auth.Principal{Subject: "sec-org-b", Role: auth.RoleOrganiser, Org: orgB}
	principalOrgC   = auth.Principal{Subject: "sec-org-c", Role: auth.RoleOrganiser, Org: orgC}
	principalSeekA  = auth.Principal{Subject: "sec-seeker-a", Role: auth.RoleAsylumSeeker, Dossier: dossierA}
	principalSeekB  = auth.Principal{Subject: "sec-seeker-b", Role: auth.RoleAsylumSeeker, Dossier: dossierB}
	validPrincipals = []auth.Principal{principalMV, principalCB01, principalCB12, principalFBR, principalOrgA, principalOrgB, principalOrgC, principalSeekA, principalSeekB}
)

// token issues a day-long token for pr.
func (e *env) token(t *testing.T, pr auth.Principal) string {
	t.Helper()
	tok, err := e.p.Token(pr)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// as is a call option carrying pr's token.
func (e *env) as(t *testing.T, pr auth.Principal) grpc.CallOption {
	return grpc.PerRPCCredentials(auth.BearerToken(e.token(t, pr)))
}

// badTokens are tokens no service may accept, by name: one that expired an
// hour ago (signed with the platform's own key), one with the platform's key
// id but signed by another key, one with `alg: none`, and garbage.
func (e *env) badTokens(t *testing.T) map[string]string {
	t.Helper()
	key, err := auth.DevKey(filepath.Join(e.dataDir, "keys", "dev.pem"))
	if err != nil {
		t.Fatal(err)
	}
	kid := auth.Thumbprint(key.Public().(ed25519.PublicKey))
	_, foreign, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := func(exp time.Time) map[string]any {
		return map[string]any{"iss": "tia", "aud": "tia", "sub": "sec-migrationsverket", "role": "migrationsverket",
			"iat": exp.Add(-2 * time.Hour).Unix(), "nbf": exp.Add(-2 * time.Hour).Unix(), "exp": exp.Unix()}
	}
	return map[string]string{
		"expired":     signJWT(t, key, map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": kid}, claims(now.Add(-time.Hour))),
		"foreign-key": signJWT(t, foreign, map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": kid}, claims(now.Add(time.Hour))),
		"alg-none":    signJWT(t, nil, map[string]any{"alg": "none", "typ": "JWT"}, claims(now.Add(time.Hour))),
		"garbage":     "not-a-token.%%%.",
	}
}

// signJWT builds a compact JWS by hand (a nil key leaves the signature
// empty, as `alg: none` does), so the test controls every header and claim.
func signJWT(t *testing.T, key ed25519.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(header) + "." + enc(claims)
	if key == nil {
		return signing + "."
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(signing)))
}

// panics returns the log lines that report a panic.
func (e *env) panics() []string {
	var out []string
	for _, line := range strings.Split(e.log.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "panic") {
			out = append(out, line)
		}
	}
	return out
}
