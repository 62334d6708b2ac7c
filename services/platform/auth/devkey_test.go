package auth

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestDevKeyCreatesAndReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "keys", "dev.pem")
	key, err := DevKey(path)
	if err != nil {
		t.Fatalf("DevKey (create): %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("private key mode = %v, want 0600", mode)
	}
	if _, err := os.Stat(path + ".pub"); err != nil {
		t.Fatalf("public key not written: %v", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tia-key-*")); len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	again, err := DevKey(path)
	if err != nil {
		t.Fatalf("DevKey (reload): %v", err)
	}
	if !key.Equal(again) {
		t.Error("reloading returned a different key")
	}

	// The .pub file is what a separate service trusts: tokens from the
	// private key must verify against it.
	v, err := LoadVerifier(path + ".pub")
	if err != nil {
		t.Fatalf("LoadVerifier(.pub): %v", err)
	}
	v.now = func() time.Time { return testNow }
	tok, err := fixedIssuer(key, "dev").Issue(validPrincipals[3], time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Verify(tok); err != nil || p != validPrincipals[3] {
		t.Errorf("Verify via .pub = %v, %v", p, err)
	}
}

func TestDevKeyRepairsPublicKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev.pem")
	key, err := DevKey(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	for name, prepare := range map[string]func() error{
		"stale":   func() error { return os.WriteFile(path+".pub", []byte("stale"), 0o644) },
		"deleted": func() error { return os.Remove(path + ".pub") },
	} {
		if err := prepare(); err != nil {
			t.Fatal(err)
		}
		if _, err := DevKey(path); err != nil {
			t.Fatalf("%s: DevKey: %v", name, err)
		}
		got, err := os.ReadFile(path + ".pub")
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: .pub = %q, %v; want the key's public half", name, got, err)
		}
	}
	block, _ := pem.Decode(want)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil || !key.Public().(ed25519.PublicKey).Equal(pub) {
		t.Errorf(".pub holds %v (%v), not the dev key's public key", pub, err)
	}
}

func TestDevKeyRejectsBadFiles(t *testing.T) {
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		content   []byte
		wantInErr string
	}{
		{"not PEM", []byte("hello"), "no PEM"},
		{"wrong block type", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), "no PEM"},
		{"corrupt DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), "dev key"},
		{"RSA key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}), "want an Ed25519 key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dev.pem")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := DevKey(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("DevKey error = %v, want it to mention %q", err, tt.wantInErr)
			}
			// A bad key must be reported, never silently replaced.
			if got, _ := os.ReadFile(path); string(got) != string(tt.content) {
				t.Error("DevKey overwrote the existing file")
			}
		})
	}
}

func TestDevKeyConcurrentCreation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "dev.pem")
	const n = 8
	keys := make([]ed25519.PrivateKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = DevKey(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("DevKey #%d: %v", i, errs[i])
		}
		if !keys[i].Equal(keys[0]) {
			t.Fatalf("DevKey #%d returned a different key than #0", i)
		}
	}
	onDisk, err := readPrivateKey(path)
	if err != nil || !onDisk.Equal(keys[0]) {
		t.Errorf("key on disk differs from the returned key (%v)", err)
	}
}

func TestLoadVerifier(t *testing.T) {
	dir := t.TempDir()
	edKey := newEdKey(t)
	rk := rsaKey()

	write := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pemPub := func(pub any) []byte {
		t.Helper()
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	jwks, err := json.Marshal(NewIssuer(edKey, "jwks-kid").PublicKeys())
	if err != nil {
		t.Fatal(err)
	}
	edPKCS8, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}

	edToken := signRaw(t, edKey, jose.EdDSA, "jwks-kid", baseClaims())
	rsaToken := signRaw(t, rk, jose.RS256, "whatever", baseClaims())

	valid := []struct {
		name   string
		path   string
		accept string
		reject string
	}{
		{"Ed25519 PEM", write("ed.pub", pemPub(edKey.Public())), edToken, rsaToken},
		{"RSA PEM", write("rsa.pub", pemPub(&rk.PublicKey)), rsaToken, edToken},
		{"both PEM blocks", write("both.pub", append(pemPub(edKey.Public()), pemPub(&rk.PublicKey)...)), rsaToken, signRaw(t, newEdKey(t), jose.EdDSA, "", baseClaims())},
		{"JWKS", write("keys.json", jwks), edToken, signRaw(t, edKey, jose.EdDSA, "other-kid", baseClaims())},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			v, err := LoadVerifier(tt.path)
			if err != nil {
				t.Fatalf("LoadVerifier: %v", err)
			}
			v.now = func() time.Time { return testNow }
			if _, err := v.Verify(tt.accept); err != nil {
				t.Errorf("Verify(token for this key) = %v", err)
			}
			if _, err := v.Verify(tt.reject); err == nil {
				t.Error("Verify accepted a token from an untrusted key")
			}
		})
	}

	invalid := []struct {
		name      string
		path      string
		wantInErr string
	}{
		{"private key PEM", write("priv.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edPKCS8})), "public key"},
		{"certificate", write("cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})), "unsupported PEM block"},
		{"garbage", write("garbage", []byte("nonsense")), "no PEM public key"},
		{"malformed JWKS", write("bad.json", []byte(`{"keys": [`)), "parse JWKS"},
		{"empty JWKS", write("empty.json", []byte(`{"keys": []}`)), "no usable"},
		{"corrupt public key", write("corrupt.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2}})), "parse public key"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			v, err := LoadVerifier(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("LoadVerifier = %v, %v; want error mentioning %q", v, err, tt.wantInErr)
			}
		})
	}

	if _, err := LoadVerifier(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadVerifier(missing) = %v, want fs.ErrNotExist", err)
	}
}
