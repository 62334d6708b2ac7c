package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tia-platform/tia/services/platform/testkit"
)

func newTestIssuer(t *testing.T) *Issuer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return NewIssuer(key, "")
}

func jwks(t *testing.T, issuers ...*Issuer) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, i := range issuers {
		set.Keys = append(set.Keys, i.PublicKeys().Keys...)
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestVerifierFollowsRotatedKeys rotates the signing key, from a file and
// from a URL, while callers verify tokens without pause: tokens of the old
// key pass while both keys are published, tokens of the new key pass once
// it is read, the old key's fail once it is removed, and no caller's call
// fails along the way.
func TestVerifierFollowsRotatedKeys(t *testing.T) {
	for _, kind := range []string{"file", "url"} {
		t.Run(kind, func(t *testing.T) {
			oldKey, newKey := newTestIssuer(t), newTestIssuer(t)
			var publish func([]byte)
			var source string
			switch kind {
			case "file":
				path := filepath.Join(t.TempDir(), "jwks.json")
				publish = func(data []byte) {
					// As a Kubernetes Secret volume changes: a new file
					// renamed into place.
					tmp := path + ".tmp"
					if err := os.WriteFile(tmp, data, 0o644); err != nil {
						t.Fatal(err)
					}
					if err := os.Rename(tmp, path); err != nil {
						t.Fatal(err)
					}
				}
				source = path
			case "url":
				var current atomic.Pointer[[]byte]
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/jwk-set+json")
					_, _ = w.Write(*current.Load())
				}))
				defer srv.Close()
				publish = func(data []byte) { current.Store(&data) }
				source = srv.URL + "/.well-known/jwks.json"
			}
			publish(jwks(t, oldKey))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			v, err := WatchVerifier(ctx, source, 50*time.Millisecond, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := Principal{Subject: "s", Role: RoleMigrationsverket}
			token := func(i *Issuer) string {
				tok, err := i.Issue(p, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			oldToken, newToken := token(oldKey), token(newKey)

			// Callers sign with the key in use and verify without pause.
			var signer atomic.Pointer[Issuer]
			signer.Store(oldKey)
			var calls, failed atomic.Int64
			// Once the old key is being removed (in production: after the
			// longest token lifetime), a call that still carried its
			// token may fail; the new key's calls may not.
			var removing atomic.Bool
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						tok := oldToken
						if signer.Load() == newKey {
							tok = newToken
						}
						calls.Add(1)
						if _, err := v.Verify(tok); err != nil && (tok == newToken || !removing.Load()) {
							failed.Add(1)
						}
					}
				})
			}
			if _, err := v.Verify(newToken); err == nil {
				t.Fatal("the new key's token passed before the key was published")
			}
			publish(jwks(t, oldKey, newKey))
			testkit.Eventually(t, "new key accepted", func() bool { _, err := v.Verify(newToken); return err == nil })
			if _, err := v.Verify(oldToken); err != nil {
				t.Errorf("old key's token during the overlap: %v", err)
			}
			signer.Store(newKey)
			removing.Store(true)
			publish(jwks(t, newKey))
			testkit.Eventually(t, "old key removed", func() bool { _, err := v.Verify(oldToken); return err != nil })
			// An unusable key set keeps the keys in use.
			publish([]byte(`{"keys":[]}`))
			time.Sleep(200 * time.Millisecond)
			close(stop)
			wg.Wait()
			if _, err := v.Verify(newToken); err != nil {
				t.Errorf("after an unusable key set: %v", err)
			}
			if calls.Load() == 0 || failed.Load() != 0 {
				t.Errorf("%d of %d calls failed during the rotation, want 0 of more than 0", failed.Load(), calls.Load())
			}
		})
	}
}
