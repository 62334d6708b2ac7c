// Package pseudonym derives the ids the platform uses in place of a dossier
// number (the asylum seeker's LMA number): inbox recipients, audit entries,
// hashes in flags and reports. An unkeyed hash of an eight-digit number is
// reversed by trying all 10^8 numbers in minutes, so every id is an
// HMAC-SHA256 under a secret key from configuration: without the key, the id
// cannot be recomputed from a guessed number.
//
// Rotation: start the services with the new key as TIA_PSEUDONYM_KEY and the
// old one as TIA_PSEUDONYM_KEY_PREVIOUS. New ids use the new key; Previous
// gives the ids an old key made, so a service can find (and re-key) rows
// stored under them. Once re-keyed, drop the previous key.
package pseudonym

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tia-platform/tia/services/platform/dossier"
)

// KeySize is the length of a generated key in bytes.
const KeySize = 32

// Keyer makes pseudonyms under one key (and recognises those of a previous
// one during rotation).
type Keyer struct {
	key      []byte
	previous []byte
}

// New returns a Keyer for key (at least 16 bytes) and an optional previous
// key.
func New(key, previous []byte) (*Keyer, error) {
	if len(key) < 16 {
		return nil, errors.New("pseudonym key: at least 16 bytes are needed")
	}
	return &Keyer{key: key, previous: previous}, nil
}

// Of returns the pseudonym of a dossier number: 32 hex digits, the same for
// every way of writing the number (a card serial after "/" is dropped).
func (k *Keyer) Of(dossier string) string { return of(k.key, dossier) }

// Previous returns the pseudonym under the previous key ("" when none).
func (k *Keyer) Previous(dossier string) string {
	if len(k.previous) == 0 {
		return ""
	}
	return of(k.previous, dossier)
}

func of(key []byte, d string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tia-dossier:" + dossier.Normalize(d)))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Parse reads a key written as base64 (standard or URL alphabet) or hex.
func Parse(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) >= 16 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= 16 {
			return b, nil
		}
	}
	return nil, errors.New("not a key of at least 16 bytes in hex or base64")
}

// Load reads a key from a value that is either the key itself (hex or
// base64) or the path of a file holding it (a Kubernetes secret mounted as a
// file).
func Load(value string) ([]byte, error) {
	if value == "" {
		return nil, nil
	}
	if b, err := Parse(value); err == nil {
		return b, nil
	}
	data, err := os.ReadFile(value)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	return Parse(string(data))
}

// LoadOrCreate reads the key file at path, creating it with a new random
// key (mode 0600) when it does not exist: the embedded default keeps its key
// in its data folder.
func LoadOrCreate(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return Parse(string(data))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

// Derive returns a key for another purpose (signing page tokens, say) made
// from this one, so a deployment keeps one secret.
func (k *Keyer) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte("tia-derive:" + purpose))
	return m.Sum(nil)
}
