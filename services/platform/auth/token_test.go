package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// testNow is a fixed clock so that validity-window tests are exact.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newEdKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rsaKey is shared because generating 2048-bit keys is slow.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func fixedVerifier(keys jose.JSONWebKeySet) *Verifier {
	v := NewVerifier(keys)
	v.now = func() time.Time { return testNow }
	return v
}

func fixedIssuer(key ed25519.PrivateKey, kid string) *Issuer {
	i := NewIssuer(key, kid)
	i.now = func() time.Time { return testNow }
	return i
}

// signRaw signs arbitrary claims, bypassing Issuer's validation, so tests can
// build tokens that Verify must reject.
func signRaw(t *testing.T, key any, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// baseClaims returns valid claims for an organiser at testNow; callers
// modify them to build the case under test.
func baseClaims() map[string]any {
	return map[string]any{
		"iss":  "tia",
		"aud":  "tia",
		"sub":  "org-user-3",
		"iat":  testNow.Unix(),
		"nbf":  testNow.Unix(),
		"exp":  testNow.Add(time.Hour).Unix(),
		"role": "organiser",
		"org":  "8020016281",
	}
}

func with(changes map[string]any) map[string]any {
	c := baseClaims()
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	key := newEdKey(t)
	iss := fixedIssuer(key, "k1")
	v := fixedVerifier(iss.PublicKeys())
	for _, p := range validPrincipals {
		t.Run(string(p.Role), func(t *testing.T) {
			tok, err := iss.Issue(p, time.Hour)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			got, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != p {
				t.Errorf("Verify = %#v, want the issued principal", got)
			}
		})
	}
}

func TestIssueRejects(t *testing.T) {
	iss := fixedIssuer(newEdKey(t), "")
	for _, tt := range invalidPrincipals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iss.Issue(tt.p, time.Hour)
			if !errors.Is(err, ErrInvalidPrincipal) {
				t.Fatalf("Issue = %v, want ErrInvalidPrincipal", err)
			}
			assertNoDossier(t, err.Error())
		})
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := iss.Issue(validPrincipals[0], ttl); err == nil {
			t.Errorf("Issue with ttl %v succeeded", ttl)
		}
	}
	bad := NewIssuer(ed25519.PrivateKey{1, 2, 3}, "k")
	if _, err := bad.Issue(validPrincipals[0], time.Hour); err == nil {
		t.Error("Issue with a truncated key succeeded")
	}
	if n := len(bad.PublicKeys().Keys); n != 0 {
		t.Errorf("PublicKeys of an invalid issuer has %d keys", n)
	}
}

func TestIssuerKeyID(t *testing.T) {
	key := newEdKey(t)
	tok, err := fixedIssuer(key, "").Issue(validPrincipals[0], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, allowedAlgs)
	if err != nil {
		t.Fatal(err)
	}
	want := Thumbprint(key.Public().(ed25519.PublicKey))
	if want == "" || parsed.Headers[0].KeyID != want {
		t.Errorf("kid = %q, want thumbprint %q", parsed.Headers[0].KeyID, want)
	}
	if typ := parsed.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "JWT" {
		t.Errorf("typ = %v, want JWT", typ)
	}
	// Two issuers for one key agree on the ID, so a verifier built from
	// either accepts the other's tokens.
	if got, err := fixedVerifier(NewIssuer(key, "").PublicKeys()).Verify(tok); err != nil || got != validPrincipals[0] {
		t.Errorf("Verify with independently built key set = %v, %v", got, err)
	}
}

func TestVerifyClaims(t *testing.T) {
	key := newEdKey(t)
	v := fixedVerifier(NewIssuer(key, "k1").PublicKeys())
	sec := func(d time.Duration) int64 { return testNow.Add(d).Unix() }

	tests := []struct {
		name    string
		claims  map[string]any
		wantErr error // nil means accepted
	}{
		{"valid", baseClaims(), nil},
		{"expired beyond leeway", with(map[string]any{"exp": sec(-31 * time.Second)}), ErrTokenExpired},
		{"expired within leeway", with(map[string]any{"exp": sec(-29 * time.Second)}), nil},
		{"no exp", with(map[string]any{"exp": nil}), ErrInvalidToken},
		{"nbf beyond leeway", with(map[string]any{"nbf": sec(31 * time.Second)}), ErrInvalidToken},
		{"nbf within leeway", with(map[string]any{"nbf": sec(29 * time.Second)}), nil},
		{"iat in the future", with(map[string]any{"iat": sec(time.Minute)}), ErrInvalidToken},
		{"no iat or nbf", with(map[string]any{"iat": nil, "nbf": nil}), nil},
		{"wrong issuer", with(map[string]any{"iss": "evil"}), ErrInvalidToken},
		{"no issuer", with(map[string]any{"iss": nil}), ErrInvalidToken},
		{"wrong audience", with(map[string]any{"aud": "other"}), ErrInvalidToken},
		{"no audience", with(map[string]any{"aud": nil}), ErrInvalidToken},
		{"audience list containing tia", with(map[string]any{"aud": []string{"other", "tia"}}), nil},
		{"no subject", with(map[string]any{"sub": nil}), ErrInvalidPrincipal},
		{"unknown role", with(map[string]any{"role": "root"}), ErrInvalidPrincipal},
		{"no role", with(map[string]any{"role": nil}), ErrInvalidPrincipal},
		{"organiser without org", with(map[string]any{"org": nil}), ErrInvalidPrincipal},
		{"county board without lan", with(map[string]any{"role": "lansstyrelse", "org": nil}), ErrInvalidPrincipal},
		{"asylum seeker malformed dossier", with(map[string]any{"role": "asylum_seeker", "org": nil, "dossier": "12345678"}), ErrInvalidPrincipal},
		{"role claim of wrong type", with(map[string]any{"role": 7}), ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := signRaw(t, key, jose.EdDSA, "k1", tt.claims)
			p, err := v.Verify(tok)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if p.Role != RoleOrganiser || p.Org != "8020016281" || p.Subject != "org-user-3" {
					t.Errorf("Verify = %#v", p)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify error = %v, want %v (wrapping ErrInvalidToken)", err, tt.wantErr)
			}
			if p != (Principal{}) {
				t.Errorf("Verify returned principal %v alongside an error", p)
			}
		})
	}
}

func TestVerifyErrorsDoNotLeak(t *testing.T) {
	key := newEdKey(t)
	v := fixedVerifier(NewIssuer(key, "").PublicKeys())
	claims := with(map[string]any{"role": "asylum_seeker", "org": nil, "dossier": testDossier, "lan": "01"})
	tok := signRaw(t, key, jose.EdDSA, "", claims)
	_, err := v.Verify(tok)
	if err == nil {
		t.Fatal("asylum seeker token with a lan was accepted")
	}
	assertNoDossier(t, err.Error())
	if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), strings.Split(tok, ".")[1]) {
		t.Errorf("error echoes the token: %v", err)
	}
}

func TestVerifyRejectsForgeries(t *testing.T) {
	key := newEdKey(t)
	v := fixedVerifier(NewIssuer(key, "k1").PublicKeys())
	good := signRaw(t, key, jose.EdDSA, "k1", baseClaims())
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	hmacSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(strings.Repeat("k", 32))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hmacTok, err := jwt.Signed(hmacSigner).Claims(baseClaims()).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	escalated := strings.Replace(string(mustDecode(t, parts[1])), `"organiser"`, `"migrationsverket"`, 1)

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "not-a-token"},
		{"three garbage parts", "a.b.c"},
		{"oversized", strings.Repeat("a", maxTokenLen+1)},
		{"signed by another key", signRaw(t, newEdKey(t), jose.EdDSA, "k1", baseClaims())},
		{"unknown kid", signRaw(t, key, jose.EdDSA, "k2", baseClaims())},
		{"alg none", b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."},
		{"HS256", hmacTok},
		{"payload swapped", parts[0] + "." + b64([]byte(escalated)) + "." + parts[2]},
		{"signature stripped", parts[0] + "." + parts[1] + "."},
		{"JWS JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := v.Verify(tt.token); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %v, %v; want ErrInvalidToken", p, err)
			}
		})
	}
	if _, err := v.Verify(good); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifierKeySelection(t *testing.T) {
	keyA, keyB := newEdKey(t), newEdKey(t)
	rk := rsaKey()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: keyA.Public(), KeyID: "a"},
		{Key: keyB, KeyID: "b"}, // private: NewVerifier must use only its public half
		{Key: &rk.PublicKey, KeyID: "r", Algorithm: "RS256", Use: "sig"},
	}}
	v := fixedVerifier(set)
	for _, k := range v.keys {
		if !k.IsPublic() {
			t.Fatalf("verifier retained a private key (kid %q)", k.KeyID)
		}
	}

	tests := []struct {
		name   string
		key    any
		alg    jose.SignatureAlgorithm
		kid    string
		wantOK bool
	}{
		{"B under its kid", keyB, jose.EdDSA, "b", true},
		{"A under its kid", keyA, jose.EdDSA, "a", true},
		{"B under A's kid", keyB, jose.EdDSA, "a", false},
		{"B without kid", keyB, jose.EdDSA, "", true},
		{"RSA under its kid", rk, jose.RS256, "r", true},
		{"RSA without kid", rk, jose.RS256, "", true},
		{"RSA under Ed25519 kid", rk, jose.RS256, "a", false},
		{"RSA with PS256", rk, jose.PS256, "r", false},
		{"unknown key without kid", newEdKey(t), jose.EdDSA, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(signRaw(t, tt.key, tt.alg, tt.kid, baseClaims()))
			if ok := err == nil; ok != tt.wantOK {
				t.Errorf("Verify error = %v, want ok=%v", err, tt.wantOK)
			}
		})
	}
}

func TestNewVerifierDropsUnusableKeys(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	edKey := newEdKey(t)
	tests := []struct {
		name  string
		key   jose.JSONWebKey
		token string
	}{
		{"RSA-1024", jose.JSONWebKey{Key: &weak.PublicKey}, signRaw(t, weak, jose.RS256, "", baseClaims())},
		{"encryption key", jose.JSONWebKey{Key: edKey.Public(), Use: "enc"}, signRaw(t, edKey, jose.EdDSA, "", baseClaims())},
		{"pinned to another alg", jose.JSONWebKey{Key: edKey.Public(), Algorithm: "ES256"}, signRaw(t, edKey, jose.EdDSA, "", baseClaims())},
		{"HMAC secret", jose.JSONWebKey{Key: []byte(strings.Repeat("k", 32))}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := fixedVerifier(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{tt.key}})
			if len(v.keys) != 0 {
				t.Fatalf("kept %d keys, want 0", len(v.keys))
			}
			if tt.token != "" {
				if _, err := v.Verify(tt.token); !errors.Is(err, ErrInvalidToken) {
					t.Errorf("Verify = %v, want ErrInvalidToken", err)
				}
			}
		})
	}
}
