package pseudonym

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"
)

func TestCannotBeRecomputedWithoutTheKey(t *testing.T) {
	k1, _ := New([]byte("0123456789abcdef0123456789abcdef"), nil)
	k2, _ := New([]byte("another key of thirty-two bytes!"), nil)
	id := k1.Of("12-345678")
	if id != k1.Of("12-345678/2") || id != k1.Of(" 12-345678 ") {
		t.Fatal("the card serial or spaces change the pseudonym")
	}
	if id == k2.Of("12-345678") {
		t.Fatal("two keys give the same pseudonym")
	}
	// Whoever lacks the key and tries the unkeyed hashes of every number
	// (here, the old scheme and a plain SHA-256) does not find the id.
	for _, guess := range []string{"tia-asylum-seeker:12-345678", "12-345678", "tia-dossier:12-345678"} {
		sum := sha256.Sum256([]byte(guess))
		if hex.EncodeToString(sum[:16]) == id || hex.EncodeToString(sum[:]) == id {
			t.Fatalf("pseudonym equals an unkeyed hash of %q", guess)
		}
	}
	if k1.Of("12-345679") == id {
		t.Fatal("two numbers share a pseudonym")
	}
}

func TestRotation(t *testing.T) {
	old := []byte("0123456789abcdef0123456789abcdef")
	k, _ := New([]byte("another key of thirty-two bytes!"), old)
	was, _ := New(old, nil)
	if k.Previous("12-345678") != was.Of("12-345678") {
		t.Fatal("Previous does not give the old key's pseudonym")
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "pseudonym.key")
	a, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(path)
	if err != nil || string(a) != string(b) {
		t.Fatalf("second load differs: %v", err)
	}
	c, err := Load(path)
	if err != nil || string(c) != string(a) {
		t.Fatalf("Load(path) = %x, %v", c, err)
	}
	if _, err := New([]byte("short"), nil); err == nil {
		t.Fatal("short key accepted")
	}
}
