package auth

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxKeySetBytes bounds a key set read from a file or URL.
const maxKeySetBytes = 1 << 20

// liveKeys are the keys of a watched source.
type liveKeys struct {
	keys atomic.Pointer[[]jose.JSONWebKey]
	// kick asks the watcher for an early read (a token named a key ID that
	// is not known yet).
	kick chan struct{}
}

func (v *Verifier) currentKeys() []jose.JSONWebKey {
	if v.live != nil {
		return *v.live.keys.Load()
	}
	return v.keys
}

func (v *Verifier) refreshSoon() {
	if v.live == nil {
		return
	}
	select {
	case v.live.kick <- struct{}{}:
	default:
	}
}

// WatchVerifier is LoadVerifier for keys that rotate: source is a file (a
// JWKS document or PEM public keys, e.g. a mounted Kubernetes Secret) or an
// http(s) URL of a JWKS (the identity provider's jwks_uri). It is read now
// (an error when it yields no usable key) and again every refresh until ctx
// ends, and early when a token names a key ID that is not known (at most
// once per refresh or 5 s, whichever is shorter). A read that fails or
// yields no usable key keeps the keys in use and is logged.
//
// Rotation without a failed call: publish the new key next to the old one,
// wait a refresh, sign with the new key, and remove the old key once the
// tokens it signed have expired.
func WatchVerifier(ctx context.Context, source string, refresh time.Duration, log *slog.Logger) (*Verifier, error) {
	if log == nil {
		log = slog.Default()
	}
	if refresh <= 0 {
		refresh = time.Minute
	}
	w := &watcher{source: source, client: &http.Client{Timeout: 10 * time.Second}, log: log.With("component", "token-keys")}
	data, err := w.read(ctx)
	if err != nil {
		return nil, fmt.Errorf("read verification keys: %w", err)
	}
	keys, err := parseKeys(data, w.name())
	if err != nil {
		return nil, err
	}
	w.last = data
	v := &Verifier{now: time.Now, live: &liveKeys{kick: make(chan struct{}, 1)}}
	v.live.keys.Store(&keys)
	go w.run(ctx, v, refresh)
	return v, nil
}

type watcher struct {
	source string
	client *http.Client
	log    *slog.Logger
	last   []byte
	etag   string
}

func (w *watcher) isURL() bool {
	return strings.HasPrefix(w.source, "https://") || strings.HasPrefix(w.source, "http://")
}

// name is the source as logs and errors show it: a URL without its query.
func (w *watcher) name() string {
	if w.isURL() {
		name, _, _ := strings.Cut(w.source, "?")
		return name
	}
	return w.source
}

func (w *watcher) run(ctx context.Context, v *Verifier, refresh time.Duration) {
	ticker := time.NewTicker(refresh)
	defer ticker.Stop()
	minGap := min(refresh, 5*time.Second)
	lastRead := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-v.live.kick:
			if time.Since(lastRead) < minGap {
				continue
			}
		}
		lastRead = time.Now()
		w.reload(ctx, v)
	}
}

// reload reads the source and, when it changed and yields usable keys,
// replaces v's keys.
func (w *watcher) reload(ctx context.Context, v *Verifier) {
	data, err := w.read(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("reading the token keys failed; keeping the keys in use", "source", w.name(), "error", err)
		}
		return
	}
	if data == nil || bytes.Equal(data, w.last) {
		return // unchanged
	}
	keys, err := parseKeys(data, w.name())
	if err != nil {
		w.log.Warn("the token keys changed but are unusable; keeping the keys in use", "source", w.name(), "error", err)
		w.last = data // warn once per content
		return
	}
	w.last = data
	v.live.keys.Store(&keys)
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.KeyID
	}
	w.log.Info("token keys reloaded", "source", w.name(), "keys", len(keys), "key_ids", ids)
}

// read returns the source's content, or nil when a URL answered 304 Not
// Modified.
func (w *watcher) read(ctx context.Context) ([]byte, error) {
	if !w.isURL() {
		f, err := os.Open(w.source)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, maxKeySetBytes))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.source, nil)
	if err != nil {
		return nil, fmt.Errorf("token key URL: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	if w.etag != "" {
		req.Header.Set("If-None-Match", w.etag)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", w.name(), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s", w.name(), resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySetBytes))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", w.name(), err)
	}
	w.etag = resp.Header.Get("ETag")
	return data, nil
}
