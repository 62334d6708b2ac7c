package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DevKey loads the Ed25519 private key at path (PEM "PRIVATE KEY", PKCS#8),
// or creates it when missing, with mode 0600 and any missing parent
// directories. It is meant for the development and embedded modes, where the
// platform signs its own tokens and there is no key management to rely on.
//
// It also writes the public key to path+".pub" (PEM "PUBLIC KEY") whenever
// that file is missing or stale, so that services running as separate
// processes can be pointed at it with LoadVerifier without ever reading the
// private key.
func DevKey(path string) (ed25519.PrivateKey, error) {
	key, err := readPrivateKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createPrivateKey(path)
	}
	if err != nil {
		return nil, err
	}
	if err := writePublicKey(path+".pub", key.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	return key, nil
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read dev key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("dev key %s: no PEM \"PRIVATE KEY\" block", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("dev key %s: %w", path, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("dev key %s: got %T, want an Ed25519 key", path, parsed)
	}
	return key, nil
}

// createPrivateKey generates a key and publishes it at path without ever
// exposing a partially written file or overwriting a key that another
// process created concurrently (for example two services of the embedded
// mode starting at once): the key is written to a temporary file and then
// hard-linked into place, which fails if path already exists. The loser of
// such a race reads the winner's key, so both end up signing with the same
// key.
func createPrivateKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate dev key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode dev key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create dev key directory: %w", err)
	}
	tmp, err := writeTemp(dir, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	if err != nil {
		return nil, fmt.Errorf("write dev key: %w", err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readPrivateKey(path)
		}
		return nil, fmt.Errorf("install dev key: %w", err)
	}
	return key, nil
}

// writePublicKey writes pub to path unless it already holds exactly that
// key. The rename makes the replacement atomic for concurrent readers.
func writePublicKey(path string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode dev public key: %w", err)
	}
	want := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, want) {
		return nil
	}
	tmp, err := writeTemp(filepath.Dir(path), want, 0o644)
	if err != nil {
		return fmt.Errorf("write dev public key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("install dev public key: %w", err)
	}
	return nil
}

// writeTemp writes data to a new file in dir with the given mode and returns
// its name. The mode is set explicitly because os.CreateTemp always uses
// 0600, which suits the private key but would hide the public key from
// services running as other users.
func writeTemp(dir string, data []byte, mode fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".tia-key-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(mode)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(name)
		return "", werr
	}
	return name, nil
}
